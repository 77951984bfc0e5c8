"""Benchmark (issue 4): rebuilding every view against a bare read of the log.

Builds a ledger of N records (default 100,000) through the real write path,
then alternates, for several rounds: a bare read of the whole notification
log through eventsourcing (``select_notifications`` page by page) and
``ledger projections rebuild``'s function.  Reports medians and the ratio;
then, in one more untimed round, the rebuild's peak Python memory (tracemalloc).

Run: python -m benchmarks.bench_projections [--records 100000] [--rounds 3] [--db FILE]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

from benchmarks.bench_verify import build
from benchmarks.common import median
from ledger import Ledger
from projections import views


def bare_read(ledger: Ledger) -> int:
    count, start = 0, None
    while True:
        batch = ledger.recorder.select_notifications(start=start, limit=1000)
        count += len(batch)
        if len(batch) < 1000:
            return count
        start = batch[-1].id + 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--db", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = args.db or Path(tmp) / "ledger.db"
        if not db.exists():
            build(db, args.records)
        ledger = Ledger(str(db))
        ours, bare = [], []
        for _ in range(args.rounds):
            start = time.perf_counter()
            n = bare_read(ledger)
            bare.append(time.perf_counter() - start)
            start = time.perf_counter()
            views.rebuild(ledger)
            ours.append(time.perf_counter() - start)
        # Memory in a separate, untimed round: tracing slows Python several-fold.
        tracemalloc.start()
        views.rebuild(ledger)
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
        ledger.close()
    o, b = median(ours), median(bare)
    print(f"rebuild every view, {n:,} records: ours {o:.1f} s, bare read {b:.1f} s, ratio {o / b:.1f} "
          f"(target <= 3); peak Python memory during rebuild {peak:.0f} MB (flat: it holds one page)",
          file=sys.stdout)


if __name__ == "__main__":
    main()
