"""Benchmark (issue 4): --as-of for one stream on a large ledger.

Builds a ledger of N records (default 1,000,000) through the real write path
(ten-record streams), then times, for random streams and points in the log,
what ``show --as-of`` does: resolve the point (a position, or a time by
binary search), find the stream's version at that point, and rebuild the
object at that version.  Queries early and late in the log are reported
separately: equal costs mean the work grows with the stream, not the ledger.

Run: python -m benchmarks.bench_asof [--records 1000000] [--queries 200] [--db FILE]
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path
from uuid import UUID

from benchmarks.bench_verify import build
from benchmarks.common import median
from ledger import Ledger
from projections.describe import version_at
from projections.history import resolve_as_of


def one_query(ledger: Ledger, position: int, by_time: bool) -> float:
    start = time.perf_counter()
    record = ledger.record_at(position)  # pick the stream written at that point
    point = resolve_as_of(ledger, record.at if by_time else str(position))
    sid = UUID(record.stream)
    version = version_at(ledger, sid, point)
    ledger.repository.get(sid, version=version)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--db", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = args.db or Path(tmp) / "ledger.db"
        if not db.exists():
            started = time.perf_counter()
            build(db, args.records)
            print(f"built {args.records:,} records in {time.perf_counter() - started:.0f} s", file=sys.stderr)
        ledger = Ledger(str(db))
        size = ledger.size()
        rng = random.Random(11)
        results = {}
        for label, low, high in (("early (first 10%)", 1, size // 10), ("late (last 10%)", size - size // 10, size)):
            for by_time in (False, True):
                times = [one_query(ledger, rng.randrange(low, high), by_time) for _ in range(args.queries)]
                results[(label, by_time)] = times
        ledger.close()
    for (label, by_time), times in results.items():
        kind = "a time" if by_time else "a position"
        print(f"--as-of {kind}, one stream, {size:,}-record ledger, {label}: median {median(times) * 1000:.1f} ms, "
              f"max {max(times) * 1000:.1f} ms (target < 1 s)")


if __name__ == "__main__":
    main()
