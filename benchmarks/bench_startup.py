"""Benchmark (c): ``ledger --help`` wall time against ``python -c "import click"``.

Both are fresh processes; rounds alternate; medians are compared.  Measured
as installed, with Python's bytecode cache (see main()).

With ``--commands``, also a read and a write command, locally on the demo's
SQLite ledger and through a ``ledger serve`` on the same ledger (``ledger
--server URL``: the resident server holds SQLAlchemy and the domain), each
against ``import click`` (issue 13's bars: a read at most 3x, a write at most 4x).

Run: python -m benchmarks.bench_startup [--rounds 15] [--commands]
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
    parser.add_argument("--commands", action="store_true", help="Also time read and write commands, locally and "
                                                                 "through a ledger server.")
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
    if args.commands:
        commands(args.rounds, base_cmd, cached)


def commands(rounds: int, base_cmd: list[str], env: dict[str, str]) -> None:
    import itertools
    import tempfile
    from pathlib import Path

    from tests.serving import serve_ledger

    program = ledger_program()
    with tempfile.TemporaryDirectory() as temp:
        folder = Path(temp)
        subprocess.run([*program, "demo", "--dir", str(folder / "demo")], check=True, capture_output=True, env=env)
        demo = folder / "demo"
        server = serve_ledger(str(demo / "ledger.db"), folder, demo / "keys" / "log.key")
        days = itertools.count(1)

        def write(*where: str) -> list[str]:
            # A new meeting each time (a write that is always allowed), a day apart.
            day = next(days)
            return [*program, *where, "meeting", "schedule", "--committee", "K-1", "--at",
                    f"2035-{1 + day // 28:02d}-{1 + day % 28:02d}T18:00:00Z",
                    "--key", str(demo / "keys" / "secretariat.key")]

        try:
            local = ["--db", str(demo / "ledger.db")]
            remote = ["--server", server.url]
            for label, where in (("local", local), ("through the server", remote)):
                o, b = medians([*program, *where, "motion", "list"], base_cmd, rounds, env)
                print(f"read (motion list) {label}: ours {o:.0f} ms, baseline (import click) {b:.0f} ms, "
                      f"ratio {o / b:.2f} (target <= 3)")
                ours, base = [], []
                for _ in range(rounds):
                    base.append(timed(lambda: subprocess.run(base_cmd, check=True, capture_output=True, env=env)))
                    cmd = write(*where)
                    ours.append(timed(lambda cmd=cmd: subprocess.run(cmd, check=True, capture_output=True, env=env)))
                o, b = median(ours) * 1000, median(base) * 1000
                print(f"write (meeting schedule) {label}: ours {o:.0f} ms, baseline (import click) {b:.0f} ms, "
                      f"ratio {o / b:.2f} (target <= 4)")
        finally:
            server.stop()


if __name__ == "__main__":
    main()
