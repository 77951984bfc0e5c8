"""Benchmarks for the transparency log (issue 5), each against its baseline in one run.

1. Inclusion and consistency proofs on a 1,000,000-leaf log, served from the
   stored complete-subtree hashes (``ledger_merkle`` in SQLite, through the same
   query the ledger uses); median over random proofs.  Target: < 10 ms each.
2. Computing the root of 1,000,000 leaves (leaf hashing included) with
   ``ledger.merkle`` against a hashlib-only floor: the same SHA-256 calls in the
   tightest loop (hash every leaf, then reduce level by level).  Target <= 1.5x.
3. ``ledger verify --bundle`` records per second on a bundle of the 100,000-
   record benchmark ledger, against the Ed25519 floor of benchmarks/bench_verify.

Run: python -m benchmarks.bench_tlog [--leaves 1000000] [--bundle-records 100000]
"""

from __future__ import annotations

import argparse
import hashlib
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import median
from ledger import merkle


def _stored_tree(path: Path, leaves: int) -> None:
    """A Merkle node table (ledger_merkle) holding every complete subtree of `leaves` leaves."""
    from sqlalchemy import create_engine

    from ledger.store import _metadata, tree_table

    engine = create_engine(f"sqlite:///{path}")
    _metadata.create_all(engine, tables=[tree_table])
    engine.dispose()
    builder = merkle.RootBuilder()
    with sqlite3.connect(path) as conn:
        batch: list[tuple[int, bytes]] = []
        insert = f"INSERT INTO {tree_table.name} VALUES (?, ?)"
        for i in range(leaves):
            batch += [(merkle.node_id(level, idx), h)
                      for (level, idx), h in builder.add(merkle.leaf_hash(i.to_bytes(8, "big")))]
            if len(batch) > 100_000:
                conn.executemany(insert, batch)
                batch = []
        conn.executemany(insert, batch)


def proofs(leaves: int, samples: int = 200) -> list[str]:
    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session

    from ledger.store import tree_nodes

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "tree.db"
        started = time.perf_counter()
        _stored_tree(path, leaves)
        print(f"stored a {leaves:,}-leaf tree in {time.perf_counter() - started:.0f} s", file=sys.stderr)
        engine = create_engine(f"sqlite:///{path}")
        with Session(engine) as session:
            tree = merkle.Tree(lambda wanted: tree_nodes(session, wanted))
            root = tree.root(leaves)
            rng = random.Random(7)
            inclusion, consistency = [], []
            for _ in range(samples):
                index = rng.randrange(leaves)
                start = time.perf_counter()
                proof = tree.inclusion_proof(index, leaves)
                inclusion.append(time.perf_counter() - start)
                merkle.verify_inclusion(index, leaves, merkle.leaf_hash(index.to_bytes(8, "big")), proof, root)
                old = rng.randrange(1, leaves)
                start = time.perf_counter()
                cproof = tree.consistency_proof(old, leaves)
                consistency.append(time.perf_counter() - start)
                merkle.verify_consistency(old, leaves, tree.root(old), root, cproof)
        engine.dispose()
    return [
        f"inclusion proof, {leaves:,} leaves: median {median(inclusion) * 1000:.2f} ms, "
        f"max {max(inclusion) * 1000:.2f} ms (target < 10 ms)",
        f"consistency proof, {leaves:,} leaves: median {median(consistency) * 1000:.2f} ms, "
        f"max {max(consistency) * 1000:.2f} ms (target < 10 ms)",
    ]


def hashlib_floor(data: list[bytes]) -> bytes:
    sha = hashlib.sha256
    level = [sha(b"\x00" + d).digest() for d in data]
    while len(level) > 1:
        nxt = [sha(b"\x01" + level[i] + level[i + 1]).digest() for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            nxt.append(level[-1])  # RFC 6962: an unpaired right subtree moves up as it is
        level = nxt
    return level[0]


def roots(leaves: int, rounds: int = 3) -> str:
    data = [i.to_bytes(8, "big") * 60 for i in range(leaves)]  # ~480-byte leaves, like records
    ours, floor = [], []
    for _ in range(rounds):
        start = time.perf_counter()
        floor_root = hashlib_floor(data)
        floor.append(time.perf_counter() - start)
        start = time.perf_counter()
        our_root = merkle.root_of_data(data)
        ours.append(time.perf_counter() - start)
        assert our_root == floor_root
    o, f = median(ours), median(floor)
    return (f"root of {leaves:,} leaves: ours {o:.2f} s, hashlib-only floor {f:.2f} s, "
            f"ratio {o / f:.2f} (target <= 1.5)")


def bundle_verify(records: int, rounds: int) -> str:
    from benchmarks.bench_verify import build, floor_seconds, triples
    from benchmarks.common import line

    with tempfile.TemporaryDirectory() as tmp:
        db, bundle = Path(tmp) / "ledger.db", Path(tmp) / "b.jsonl"
        log_key = build(db, records)
        program = "import benchmarks.bench_write; from cli.main import main; main()"
        root = Path(__file__).resolve().parents[1]
        subprocess.run([sys.executable, "-c", program, "--db", str(db), "checkpoint", "--log-key", str(log_key)],
                       check=True, capture_output=True, cwd=root)
        subprocess.run([sys.executable, "-c", program, "--db", str(db), "export", "--bundle", str(bundle)],
                       check=True, capture_output=True, cwd=root)
        vkey = subprocess.run([sys.executable, "-c", program, "--db", str(db), "show", "0", "--json"],
                              check=True, capture_output=True, cwd=root, text=True).stdout
        import json

        trust = json.loads(vkey)["record"]["data"]["log_key"]
        jobs = triples(db)
        ours, floor = [], []
        for _ in range(rounds):
            floor.append(len(jobs) / floor_seconds(jobs))
            start = time.perf_counter()
            done = subprocess.run([sys.executable, "-c", program, "verify", "--bundle", str(bundle), "--trust", trust],
                                  capture_output=True, text=True, cwd=root)
            if done.returncode != 0:
                raise SystemExit(done.stdout[-2000:] + done.stderr[-2000:])
            ours.append(len(jobs) / (time.perf_counter() - start))
        return line(f"verify --bundle, {len(jobs):,} records", median(ours), median(floor), "records/s", ">= 0.6")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leaves", type=int, default=1_000_000)
    parser.add_argument("--bundle-records", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    for text in proofs(args.leaves):
        print(text, flush=True)
    print(roots(args.leaves, args.rounds), flush=True)
    print(bundle_verify(args.bundle_records, args.rounds), flush=True)


if __name__ == "__main__":
    main()
