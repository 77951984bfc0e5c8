"""Benchmark (issue 13): does any command's cost grow with the ledger's age?

Builds realistic ledgers of each size with ``benchmarks.generate`` (the real
write path), brings their views up to date (``ledger projections rebuild``),
then runs each operation as a user does, as a real ``ledger`` process, several
times on each ledger, alternating between them, and prints one line per
operation: ``NAME small=... large=... ratio=...`` (median wall seconds, or peak
resident memory in MB for the ``*_peak_mb`` lines).  A bounded command (a
write, a show, an audit with a limit, --as-of a position, a proof) should cost
the same on both: ratio at most 1.3.  Whole-ledger work (verify, publish,
export) grows with the ledger by nature; its memory should not.

Run: python -m benchmarks.bench_scale --records 10000,100000 [--rounds 5] [--dir DIR]
(1,000,000 records take about 6 minutes to generate on this machine; the
default sizes finish in under 10 minutes.)
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.generate import generate

ROOT = Path(__file__).resolve().parents[1]
LEDGER = [sys.executable, "-m", "cli.main"]


def run(db: Path, *args: str, keys: Path | None = None) -> tuple[float, float, str]:
    """(wall seconds, peak resident MB of the process or any worker it waited for, stdout)."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), LEDGER_DB=str(db), LEDGER_STATE_DIR=str(db.parent / "state"),
               LEDGER_LOG_KEY=str(db.parent / "keys" / "log.key"))
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    done = subprocess.run([*LEDGER, *args], capture_output=True, text=True, env=env, cwd=db.parent, check=False)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"ledger {' '.join(args)} failed: {done.stderr.strip()}")
    peak = max(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, before) / 1024
    return seconds, peak, done.stdout


class Subject:
    """One generated ledger and what the operations need to know about it."""

    def __init__(self, directory: Path, records: int) -> None:
        self.dir = directory
        self.db = directory / "ledger.db"
        self.keys = directory / "keys"
        self.records = records
        self.meetings = 0

    def build(self) -> float:
        self.dir.mkdir(parents=True, exist_ok=True)
        size, seconds = generate(self.db, self.records, keys_dir=self.keys)
        self.size = size
        run(self.db, "projections", "rebuild")
        listed = json.loads(run(self.db, "motion", "list", "--json")[2])["motions"]
        self.last_motion = listed[-1]["ref"]
        self.late = size - 10
        return (size - 117) / seconds


def operations(s: Subject) -> dict[str, list[str]]:
    key = str(s.keys / "secretariat.key")
    s.meetings += 1
    when = f"2099-01-01T{s.meetings % 24:02d}:{s.meetings % 60:02d}:00Z"
    return {
        "write_meeting_schedule": ["meeting", "schedule", "--committee", "K-1", "--at", when, "--urgent", "--key", key],
        "write_fund_receive": ["fund", "receive", "F-1", "--party", "clean-air-now", "--amount", "1.00",
                               "--evidence", "ab" * 32, "--key", key],
        "show_motion": ["motion", "show", s.last_motion],
        "show_committee": ["committee", "show", "K-1"],
        "show_fund": ["fund", "show", "F-1"],
        "log_limit_20": ["log", "--from", str(s.late - 20), "--limit", "20"],
        "audit_limit_20": ["audit", "--limit", "20"],
        "audit_ref_as_of_late": ["audit", "--ref", s.last_motion, "--as-of", str(s.late)],
        "show_as_of_position": ["motion", "show", "M-5", "--as-of", str(s.late)],
        "prove_inclusion": ["prove", "inclusion", str(s.late)],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", default="10000,100000", help="Two sizes, small and large.")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--dir", type=Path, help="Keep the ledgers here (default: a temporary folder).")
    args = parser.parse_args()
    small_n, large_n = (int(n) for n in args.records.split(","))
    # Time commands as installed ones run: from compiled bytecode (some environments set
    # PYTHONDONTWRITEBYTECODE, which would make every command compile its sources first).
    import compileall

    for package in ("ledger", "cli", "projections"):
        compileall.compile_dir(str(ROOT / package), quiet=1)
    base = args.dir or Path(tempfile.mkdtemp(prefix="bench-scale-"))
    try:
        subjects = [Subject(base / f"ledger-{n}", n) for n in (small_n, large_n)]
        rates = [subject.build() for subject in subjects]
        print(f"generate_records_per_s small={rates[0]:.0f} large={rates[1]:.0f} ratio={rates[1] / rates[0]:.2f}")
        click = statistics.median(_click() for _ in range(args.rounds))
        print(f"python_import_click_s {click:.3f}")
        times: dict[str, list[list[float]]] = {}
        for _ in range(args.rounds):
            for index, subject in enumerate(subjects):
                for name, argv in operations(subject).items():
                    times.setdefault(name, [[], []])[index].append(run(subject.db, *argv)[0])
        for name, (small, large) in times.items():
            a, b = statistics.median(small), statistics.median(large)
            print(f"{name} small={a:.3f} large={b:.3f} ratio={b / a:.2f} (x click: {b / click:.1f})")
        for name, argv in (("verify", ["verify"]), ("publish", ["publish", "site"]),
                           ("export_audit_jsonl", ["export", "--format", "audit-jsonl", "--out", "audit.jsonl"])):
            measured = []
            for subject in subjects:
                for leftover in ("site", "audit.jsonl"):
                    target = subject.dir / leftover
                    if target.is_dir():
                        shutil.rmtree(target)
                    elif target.exists():
                        target.unlink()
                measured.append(_isolated(subject.db, argv))
            (ta, ma), (tb, mb) = measured
            print(f"{name}_s small={ta:.2f} large={tb:.2f} ratio={tb / ta:.2f} "
                  f"(records/s small={subjects[0].size / ta:,.0f} large={subjects[1].size / tb:,.0f})")
            print(f"{name}_peak_mb small={ma:.0f} large={mb:.0f} ratio={mb / ma:.2f}")
    finally:
        if args.dir is None:
            shutil.rmtree(base, ignore_errors=True)


def _isolated(db: Path, argv: list[str]) -> tuple[float, float]:
    """Run in a fresh child process so that its peak memory is its own."""
    code = (f"import sys; sys.path.insert(0, {str(ROOT)!r}); from benchmarks.bench_scale import run; "
            f"from pathlib import Path; r = run(Path({str(db)!r}), *{argv!r}); print(r[0], r[1])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    return float(out[0]), float(out[1])


def _click() -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import click"], check=True)
    return time.perf_counter() - start


if __name__ == "__main__":
    main()
