"""Benchmark (issue 6): publishing the site.

1. The demo partnership: publish time (target < 5 s).
2. A ledger of N records (default 100,000): publish time and output size,
   against rebuilding every view on the same ledger in the same run.

Run: python -m benchmarks.bench_publish [--records 100000] [--db FILE]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from benchmarks.bench_verify import build
from ledger import Ledger
from ledger.demo import build_demo
from projections import views
from projections.site import publish


def size_of(directory: Path) -> int:
    return sum(p.stat().st_size for p in directory.rglob("*") if p.is_file())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--db", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        demo, _ = build_demo(Path(tmp) / "demo", echo=lambda _t: None)
        start = time.perf_counter()
        publish(demo, Path(tmp) / "demo-site")
        print(f"publish the demo ({demo.size()} records): {time.perf_counter() - start:.2f} s (target < 5 s), "
              f"{size_of(Path(tmp) / 'demo-site') / 1024:.0f} KiB")
        demo.close()
        db = args.db or Path(tmp) / "big.db"
        if not db.exists():
            build(db, args.records)
        ledger = Ledger(str(db))
        start = time.perf_counter()
        views.rebuild(ledger)
        rebuild = time.perf_counter() - start
        start = time.perf_counter()
        publish(ledger, Path(tmp) / "big-site")
        took = time.perf_counter() - start
        print(f"publish {ledger.size():,} records: {took:.1f} s, {size_of(Path(tmp) / 'big-site') / 2**20:.0f} MiB; "
              f"rebuilding every view in the same run: {rebuild:.1f} s (ratio {took / rebuild:.1f})")
        ledger.close()


if __name__ == "__main__":
    main()
