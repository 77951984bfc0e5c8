"""Benchmark (a): signed appends per second against bare eventsourcing.

Both sides write to a fresh SQLite file through eventsourcing-sqlalchemy.
The baseline is a plain eventsourcing application saving unsigned events
with the same payload; ours is the ledger's real write path (write lock,
key check, signing, canonical bytes, log positions, Merkle tree).  Each
command creates one stream with 1 or 10 events.  As the issue asks, the
baseline's events are "of the same size": its text is padded so that its
stored event is as many bytes as our signed record (envelope and signature
included).  Rounds alternate between the two sides and the median rate of
each is reported, with the ratio ours / baseline.

Run: python -m benchmarks.bench_write [--commands 300] [--rounds 5] [--pg postgresql://postgres@127.0.0.1/test]
(with --pg, both sides write to fresh databases on that PostgreSQL server).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any
from uuid import uuid4

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate

from benchmarks.common import line, median, timed
from ledger import Ledger, Signer
from ledger.authz import register_writers
from ledger.domain.base import LedgerAggregate
from ledger.types import register_aggregate

PAYLOAD = "Minutes of the co-design committee, item 4: air quality sensors near schools. " * 3


# --- the ledger side: a minimal aggregate on the real write path -----------

@register_aggregate
class BenchNote(LedgerAggregate):
    class Opened(LedgerAggregate.Created):
        TYPE = "bench.opened"
        text: str

    class Noted(LedgerAggregate.Event):
        TYPE = "bench.noted"
        text: str

    def __init__(self, text: str) -> None:
        self.count = 1


register_writers({"bench.opened": ["secretariat"], "bench.noted": ["secretariat"]})


def ledger_commands(ledger: Ledger, signer: Signer, commands: int, events: int) -> None:
    for _ in range(commands):
        def action(_ctx: Any) -> tuple[None, list[Any]]:
            note = BenchNote._create(BenchNote.Opened, id=uuid4(), text=PAYLOAD)
            for _ in range(events - 1):
                note.trigger_event(BenchNote.Noted, text=PAYLOAD)
            return None, [note]

        ledger.run(signer, action)


# --- the baseline: bare eventsourcing + eventsourcing-sqlalchemy ------------

class BareNote(Aggregate):
    class Opened(Aggregate.Created):
        text: str

    class Noted(Aggregate.Event):
        text: str

    def __init__(self, text: str) -> None:
        self.count = 1


class BareApp(Application[Any]):
    pass


def bare_commands(app: BareApp, commands: int, events: int, text: str = PAYLOAD) -> None:
    for _ in range(commands):
        note = BareNote._create(BareNote.Opened, id=uuid4(), text=text)
        for _ in range(events - 1):
            note.trigger_event(BareNote.Noted, text=text)
        app.save(note)


def last_stored_size(recorder: Any) -> int:
    return len(recorder.select_notifications(start=recorder.max_notification_id(), limit=1)[0].state)


def same_size_text(ledger: Ledger, signer: Signer, bare: BareApp) -> str:
    """The baseline's text, padded so its stored events are as big as our records."""
    ledger_commands(ledger, signer, 1, 2)
    bare_commands(bare, 1, 2)
    return PAYLOAD + "." * max(0, last_stored_size(ledger.recorder) - last_stored_size(bare.recorder))


def signing_seconds(events: int) -> float:
    """The pure cost of ``events`` sequential Ed25519 signatures of record-sized messages."""
    signer = Signer.generate()
    message = b"governance-ledger/v1\n" + PAYLOAD.encode() * 2
    start = time.perf_counter()
    for _ in range(events):
        signer.sign(message)
    return time.perf_counter() - start


def _fresh_pg(admin_url: str, name: str) -> str:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name}")
    return admin_url.rsplit("/", 1)[0] + "/" + name


def run(commands: int, rounds: int, pg: str | None = None) -> list[str]:
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        signer = Signer.generate()
        ours_url = _fresh_pg(pg, "bench_write_ours") if pg else str(Path(tmp) / "ledger.db")
        bare_url = (_fresh_pg(pg, "bench_write_bare").replace("postgresql://", "postgresql+psycopg://") if pg
                    else f"sqlite:///{Path(tmp) / 'bare.db'}")
        ledger = Ledger(ours_url, create=True)
        ledger.init(origin="bench.example/write", name="Bench", founder=signer, holder="Bench",
                    roles=["secretariat"], log_public=Signer.generate().public_bytes)
        bare = BareApp(env={"PERSISTENCE_MODULE": "eventsourcing_sqlalchemy", "SQLALCHEMY_URL": bare_url,
                            "CREATE_TABLE": "y"})
        text = same_size_text(ledger, signer, bare)
        for events in (1, 10):
            ours_rates, bare_rates, ceilings = [], [], []
            for _ in range(rounds):
                bare_time = timed(lambda n=events: bare_commands(bare, commands, n, text))
                bare_rates.append(commands * events / bare_time)
                ours_time = timed(lambda n=events: ledger_commands(ledger, signer, commands, n))
                ours_rates.append(commands * events / ours_time)
                # For scale: the ratio if signing were our only extra work (we
                # can beat it: our inserts are leaner than the ORM's).
                ceilings.append(bare_time / (bare_time + signing_seconds(commands * events)))
            out.append(line(f"appends, {events}-event commands", median(ours_rates), median(bare_rates),
                            "events/s", ">= 0.75")
                       + f"; bare plus the signatures alone would score {median(ceilings):.2f}")
        ledger.close()
        bare.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commands", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--pg", default=None, metavar="URL", help="A PostgreSQL server to write to instead of SQLite.")
    args = parser.parse_args()
    for text in run(args.commands, args.rounds, args.pg):
        print(text)


if __name__ == "__main__":
    main()
