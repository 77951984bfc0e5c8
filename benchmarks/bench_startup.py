"""Benchmark (c): ``ledger --help`` wall time against ``python -c "import click"``.

Both are fresh processes; rounds alternate; medians are compared.  Measured
as installed, with Python's bytecode cache (see main()).

Run: python -m benchmarks.bench_startup [--rounds 15]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys

from benchmarks.bench_verify import ledger_program
from benchmarks.common import median, timed


def medians(ours_cmd: list[str], base_cmd: list[str], rounds: int, env: dict[str, str]) -> tuple[float, float]:
    def run(cmd: list[str]) -> float:
        return timed(lambda: subprocess.run(cmd, check=True, capture_output=True, env=env))

    run(ours_cmd), run(base_cmd)  # a first run writes the bytecode cache, where allowed
    ours, base = [], []
    for _ in range(rounds):
        base.append(run(base_cmd))
        ours.append(run(ours_cmd))
    return median(ours) * 1000, median(base) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    ours_cmd = [*ledger_program(), "--help"]
    base_cmd = [sys.executable, "-c", "import click"]
    # As installed: a first run lets Python write the bytecode cache of the
    # package's modules, as it does on any machine (click's modules came
    # compiled with it).  Some sandboxes set PYTHONDONTWRITEBYTECODE, which
    # would make every run of a fresh checkout compile the CLI's modules again.
    cached = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    o, b = medians(ours_cmd, base_cmd, args.rounds, cached)
    print(f"ledger --help: ours {o:.0f} ms, baseline (import click) {b:.0f} ms, ratio {o / b:.2f} (target <= 2)")


if __name__ == "__main__":
    main()
