"""Benchmark (c): ``ledger --help`` wall time against ``python -c "import click"``.

Both are fresh processes; rounds alternate; medians are compared.  Measured
as installed, with Python's bytecode cache (see main()).

With ``--commands``, also a read and a write command on the demo's SQLite
ledger: each in its own process, with a resident (``ledger resident start``:
the same command line, the ledger kept open in a background process), and
through a ``ledger serve`` (``ledger --server URL``), each against ``import
click`` (issue 13's bars: a read at most 3x, a write at most 4x).  Then
``python -X importtime`` shows what each command imports: with a resident,
neither SQLAlchemy, eventsourcing nor the domain model.

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

        runtime = tempfile.mkdtemp(prefix="lr-", dir="/tmp")  # a Unix socket's path is short
        alone_env = {**env, "LEDGER_NO_RESIDENT": "1"}
        resident_env = {**env, "XDG_RUNTIME_DIR": runtime}
        resident_env.pop("LEDGER_NO_RESIDENT", None)
        resident_env.pop("LEDGER_LOG_KEY", None)
        subprocess.run([*program, "--db", str(demo / "ledger.db"), "resident", "start"], check=True,
                       capture_output=True, env=resident_env)
        try:
            local = ["--db", str(demo / "ledger.db")]
            remote = ["--server", server.url]
            for label, where, where_env in (("in its own process", local, alone_env),
                                            ("with a resident", local, resident_env),
                                            ("through the server", remote, env)):
                o, b = medians([*program, *where, "motion", "list"], base_cmd, rounds, where_env)
                print(f"read (motion list) {label}: ours {o:.0f} ms, baseline (import click) {b:.0f} ms, "
                      f"ratio {o / b:.2f} (target <= 3)")
                ours, base = [], []
                for _ in range(rounds):
                    base.append(timed(lambda: subprocess.run(base_cmd, check=True, capture_output=True, env=env)))
                    cmd = write(*where)
                    ours.append(timed(lambda cmd=cmd, e=where_env: subprocess.run(cmd, check=True,
                                                                                  capture_output=True, env=e)))
                o, b = median(ours) * 1000, median(base) * 1000
                print(f"write (meeting schedule) {label}: ours {o:.0f} ms, baseline (import click) {b:.0f} ms, "
                      f"ratio {o / b:.2f} (target <= 4)")
            for label, where_env in (("in its own process", alone_env), ("with a resident", resident_env)):
                imports(label, [*local, "motion", "list"], where_env)
        finally:
            subprocess.run([*program, "--db", str(demo / "ledger.db"), "resident", "stop"], capture_output=True,
                           env=resident_env)
            server.stop()
            import shutil

            shutil.rmtree(runtime, ignore_errors=True)


HEAVY = ("sqlalchemy", "eventsourcing", "ledger.domain", "ledger.application", "psycopg")


def imports(label: str, args: list[str], env: dict[str, str]) -> None:
    """What the command imports (``python -X importtime``): the total, the largest
    top-level packages, and whether the heavy ones are among them."""
    done = subprocess.run([sys.executable, "-X", "importtime", "-c", "import sys; from cli.main import main; "
                           f"sys.argv = ['ledger', *{args!r}]; main()"], capture_output=True, text=True, env=env)
    packages: dict[str, int] = {}
    modules: set[str] = set()
    for line in done.stderr.splitlines():
        parts = line[len("import time:"):].split("|") if line.startswith("import time:") else []
        if len(parts) != 3 or not parts[1].strip().isdigit():
            continue  # the header
        module = parts[2].strip()
        modules.add(module)
        if len(parts[2]) - len(parts[2].lstrip()) == 1:  # a top-level import: nested ones are in it
            packages[module.split(".")[0]] = packages.get(module.split(".")[0], 0) + int(parts[1])
    heavy = sorted(h for h in HEAVY if any(m == h or m.startswith(h + ".") for m in modules))
    top = sorted(packages.items(), key=lambda item: -item[1])[:6]
    print(f"imports (motion list) {label}: {sum(packages.values()) / 1000:.0f} ms; largest: "
          + ", ".join(f"{name} {us / 1000:.0f} ms" for name, us in top)
          + f"; heavy: {', '.join(heavy) if heavy else 'none'}")


if __name__ == "__main__":
    main()
