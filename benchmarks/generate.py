"""A realistic benchmark ledger: the demo's first year, then meeting after meeting.

Everything goes through the real write path (the governance commands, their
rules, signatures, the log and the Merkle tree); each meeting is recorded as
one transaction, as ``ledger apply`` records one.  Per meeting, in proportion:
scheduling and agenda, attendance, three motions (proposed, seconded, put to
the vote, five votes, closed), a contribution received into the fund, a
milestone progress report and the meeting's close; every tenth meeting one
motion is a funding decision followed by an allocation and a disbursement;
every fiftieth a grievance is filed, heard and closed.  About 36 records a
meeting; one meeting an hour of ledger time from the end of the demo's year.

Run: python -m benchmarks.generate --records 100000 --db big.db
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

from ledger import Ledger, Signer
from ledger import commands as c
from ledger.demo import PEOPLE, PEOPLE_BY_STEM, found_partnership

MEMBERS = ("party", "cso-air", "cso-tenants", "cso-cycle", "institute")


class Clock:
    """The ledger's time: moved on explicitly, a second per command in between."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


def generate(db: Path, records: int, progress: bool = False, keys_dir: Path | None = None) -> tuple[int, float]:
    """Build a ledger of at least ``records`` records; return (records, seconds spent after the demo year).
    With ``keys_dir``, the people's keys and the log key are written there (as the demo writes them)."""
    signers = {stem: Signer.generate() for stem, _, _ in PEOPLE}
    log_key = Signer.generate()
    ledger = Ledger(str(db), create=True)
    try:
        found_partnership(ledger, signers, log_key, lambda _t: None)
        ledger.log_key = log_key  # found_partnership hands it back; one checkpoint per meeting
        last = ledger.record_at(ledger.size() - 1).moment
        clock = Clock(last)
        ledger.clock = clock
        started = time.perf_counter()
        number = 0
        while ledger.size() < records:
            number += 1
            with ledger.batch():
                _meeting(ledger, signers, clock, number)
            if progress and number % 100 == 0:
                rate = (ledger.size() - 117) / (time.perf_counter() - started)
                print(f"\r{ledger.size():,} records, {rate:,.0f}/s", end="", file=sys.stderr)
        if progress:
            print(file=sys.stderr)
        seconds = time.perf_counter() - started
        if keys_dir is not None:
            from ledger import write_key_pair

            keys_dir.mkdir(parents=True, exist_ok=True)
            for stem, signer in {**signers, "log": log_key}.items():
                write_key_pair(signer, keys_dir / stem)
        return ledger.size(), seconds
    finally:
        ledger.close()


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _meeting(ledger: Ledger, s: dict[str, Signer], clock: Clock, number: int) -> None:
    sec = s["secretariat"]
    starts = clock.now + timedelta(minutes=5)
    meeting = c.schedule_meeting(ledger, sec, "K-1", starts, urgent=True)
    c.publish_agenda(ledger, sec, meeting, [{"title": "Pilot progress"}, {"title": "Proposals"},
                                            {"title": "Any other business"}])
    clock.now = starts
    c.record_attendance(ledger, sec, meeting, [PEOPLE_BY_STEM[m] for m in MEMBERS])
    funding = number % 10 == 0
    decided = []
    for item in (1, 2, 3):
        proposer, seconder = MEMBERS[(number + item) % 5], MEMBERS[(number + item + 1) % 5]
        kwargs = {}
        decision_class = "ordinary"
        if funding and item == 2:
            decision_class = "funding"
            kwargs = {"amount": {"value": "1000.00", "currency": "EUR", "fund": "F-1"}}
        motion = c.propose_motion(ledger, s[proposer], meeting, item, decision_class,
                                  f"Motion {item} of meeting {number}.", **kwargs)  # type: ignore[arg-type]
        c.second_motion(ledger, s[seconder], motion)
        c.open_vote(ledger, sec, motion)
        for i, member in enumerate(MEMBERS):
            c.cast_vote(ledger, s[member], motion, "no" if (number + i + item) % 4 == 0 else "yes")
        result, _why = c.close_motion(ledger, sec, motion)
        decided.append((motion, decision_class, result))
    c.receive(ledger, sec, "F-1", ("clean-air-now", "tenants-union", "cycle-forward")[number % 3], "1000.00",
              _digest(f"bank statement {number}"))
    for motion, decision_class, result in decided:
        if decision_class == "funding" and result == "pass":
            allocation = c.allocate(ledger, sec, "F-1", f"Pilot extension {number}", "1000.00", motion,
                                    "urban-health")
            c.disburse(ledger, sec, "F-1", allocation, "1000.00", _digest(f"invoice {number}"))
    report_date = clock.now.date().isoformat()
    c.report_progress(ledger, s["institute"], "MS-1", "15.0", report_date, _digest(f"air report {number}"),
                      f"Readings after meeting {number}.")
    if number % 50 == 0:
        dispute = c.file_dispute(ledger, s["cso-tenants"], "C-1",
                                 {"kind": "party", "name": "Riverside Tenants' Union", "party": "tenants-union"},
                                 ["civic-renewal"], [c.cited_hash(ledger, decided[0][0])],
                                 f"The tenants were not consulted before meeting {number}.")
        c.on_dispute(ledger, sec, dispute, lambda ctx, d: d.acknowledge("Received."))
        c.assign_dispute(ledger, sec, dispute, PEOPLE_BY_STEM["ombudsperson"], "ombudsperson")
        c.on_dispute(ledger, s["ombudsperson"], dispute, lambda ctx, d: d.record_finding(False, "Consulted."))
        c.on_dispute(ledger, s["ombudsperson"], dispute, lambda ctx, d: d.close("Not upheld."))
    c.on_meeting(ledger, sec, meeting, lambda ctx, m: m.close_meeting(""))
    clock.now += timedelta(minutes=55)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--db", type=Path, required=True)
    args = parser.parse_args()
    if args.db.exists():
        raise SystemExit(f"{args.db} exists; choose a new file")
    size, seconds = generate(args.db, args.records, progress=sys.stderr.isatty())
    print(f"generated {size:,} records in {seconds:.1f} s: {(size - 117) / seconds:,.0f} records/s")


if __name__ == "__main__":
    main()
