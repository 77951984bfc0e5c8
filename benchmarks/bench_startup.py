"""Benchmark (c): ``ledger --help`` wall time against ``python -c "import click"``.

Both are fresh processes; rounds alternate; medians are compared.

Run: python -m benchmarks.bench_startup [--rounds 15]
"""

from __future__ import annotations

import argparse
import subprocess
import sys

from benchmarks.bench_verify import ledger_program
from benchmarks.common import median, timed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    ours_cmd = [*ledger_program(), "--help"]
    base_cmd = [sys.executable, "-c", "import click"]
    ours, base = [], []
    for _ in range(args.rounds):
        base.append(timed(lambda: subprocess.run(base_cmd, check=True, capture_output=True)))
        ours.append(timed(lambda: subprocess.run(ours_cmd, check=True, capture_output=True)))
    o, b = median(ours) * 1000, median(base) * 1000
    print(f"ledger --help: ours {o:.0f} ms, baseline (import click) {b:.0f} ms, ratio {o / b:.2f} (target <= 2)")


if __name__ == "__main__":
    main()
