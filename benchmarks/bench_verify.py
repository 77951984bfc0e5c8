"""Benchmark (b): ``ledger verify`` records per second against the Ed25519 floor.

Builds a ledger of N records (default 100,000) through the real write path
(ten-event commands), then alternates, for several rounds:

* ours: the real ``ledger verify`` program in a child process, timed (its
  peak resident memory, with its workers', is sampled in one more run, as
  sampling takes CPU from it);
* the floor: Ed25519 verification of exactly the same (key, signature,
  message) triples with ``cryptography`` on a thread per core (it releases
  the GIL), with nothing else to do.

Run: python -m benchmarks.bench_verify [--records 100000] [--rounds 3] [--db FILE]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from benchmarks.bench_write import ledger_commands
from benchmarks.common import line, median
from ledger import Ledger, Signer
from ledger import record as rec


def build(db: Path, records: int) -> Path:
    """A ledger of `records` records; returns the path of its log key file."""
    from ledger.keys import write_key_pair

    signer, log_key = Signer.generate(), Signer.generate()
    key_path, _ = write_key_pair(log_key, db.with_name(db.stem + "-log"))
    ledger = Ledger(str(db), create=True)
    ledger.init(origin="bench.example/verify", name="Bench", founder=signer, holder="Bench",
                roles=["secretariat"], log_public=log_key.public_bytes)
    ledger_commands(ledger, signer, (records - 1) // 10, 10)
    ledger_commands(ledger, signer, (records - 1) % 10, 1)
    ledger.close()
    return key_path


def triples(db: Path) -> list[tuple[Ed25519PublicKey, bytes, bytes]]:
    ledger = Ledger(str(db))
    keys = {k.key_id: Ed25519PublicKey.from_public_bytes(__import__("base64").b64decode(k.public_key))
            for k in ledger.registry().keys.values()}
    out = []
    for n in ledger.notifications():
        record = rec.parse(n.state)
        out.append((keys[record.actor], record.signature(), record.signed_message()))
    ledger.close()
    return out


def floor_seconds(jobs: list[tuple[Ed25519PublicKey, bytes, bytes]]) -> float:
    def check(chunk: list[tuple[Ed25519PublicKey, bytes, bytes]]) -> None:
        for public, signature, message in chunk:
            public.verify(signature, message)

    size = 256
    chunks = [jobs[i:i + size] for i in range(0, len(jobs), size)]
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        list(pool.map(check, chunks))
    return time.perf_counter() - start


def ledger_program() -> list[str]:
    found = shutil.which("ledger", path=str(Path(sys.executable).parent))
    return [found] if found else [sys.executable, "-m", "cli.main"]


# The `ledger` program's own entry point, in a process that also knows the
# benchmark's record types (bench.opened, bench.noted).
VERIFY_PROGRAM = "import benchmarks.bench_write; from cli.main import main; main()"


def tree_rss_kb(pid: int) -> int:
    """Resident memory of a process and all its descendants, from /proc."""
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            total += int(status.split("VmRSS:")[1].split()[0])
            for task in Path(f"/proc/{current}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError, IndexError):
            continue
    return total


def ours(db: Path, sample_memory: bool = False) -> tuple[float, float]:
    """Wall seconds of one real `ledger verify` process and, when sampling, the
    peak total resident memory of it and its worker processes (sampled every
    20 ms; ru_maxrss would also count pages a child held before exec).

    Sampling reads /proc for every process 50 times a second, which takes CPU
    from the verifier on a busy machine, so timed runs do not sample.
    """
    with tempfile.TemporaryFile() as out:
        start = time.perf_counter()
        # The verifier's remembered state goes beside the database, not in the user's home.
        env = {**os.environ, "LEDGER_STATE_DIR": str(db.parent / "verifier-state")}
        proc = subprocess.Popen([sys.executable, "-c", VERIFY_PROGRAM, "--db", str(db), "verify"], stdout=out,
                                cwd=Path(__file__).resolve().parents[1], env=env)
        peak = 0
        if sample_memory:
            while proc.poll() is None:
                peak = max(peak, tree_rss_kb(proc.pid))
                time.sleep(0.02)
        proc.wait()
        seconds = time.perf_counter() - start
        out.seek(0)
        text = out.read().decode()
    if proc.returncode != 0 or not text.rstrip().endswith("OK"):
        raise SystemExit(f"verify failed: {text[:2000]}")
    return seconds, peak / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--db", type=Path, help="reuse (or create) this ledger file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = args.db or Path(tmp) / "ledger.db"
        if not db.exists():
            started = time.perf_counter()
            build(db, args.records)
            print(f"built {args.records:,} records in {time.perf_counter() - started:.0f} s", file=sys.stderr)
        jobs = triples(db)
        ours_rates, floor_rates = [], []
        for _ in range(args.rounds):
            floor_rates.append(len(jobs) / floor_seconds(jobs))
            ours_rates.append(len(jobs) / ours(db)[0])
        peak = ours(db, sample_memory=True)[1]
        print(line(f"verify, {len(jobs):,} records on {os.cpu_count()} cores", median(ours_rates),
                   median(floor_rates), "records/s", ">= 0.6")
              + f"; peak memory {peak:.0f} MB, verify process and its workers together (target < 200 MB)")


if __name__ == "__main__":
    main()
