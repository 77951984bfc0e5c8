"""The whole demo partnership, recorded and verified on SQLite and PostgreSQL alike."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from ledger import Ledger, NotFoundError, Signer
from ledger.demo import PEOPLE, found_partnership
from ledger.verify import verify_ledger


def test_the_partnership_records_and_verifies_on_each_backend(db_url: str, open_ledgers: list[Ledger]) -> None:
    ledger = Ledger(db_url, create=True)
    open_ledgers.append(ledger)
    signers = {stem: Signer.generate() for stem, _, _ in PEOPLE}
    lines: list[str] = []
    found_partnership(ledger, signers, Signer.generate(), lines.append)
    assert "M-3 (ordinary, tie): fail, 2 yes of 4 cast: more than 1/2 was not reached" in lines
    assert "M-6 (ordinary, two present): fail, quorum not met: 2 present of 5 seated, 1/2 needed" in lines
    report = verify_ledger(ledger)
    assert report.ok, [f.line() for f in report.findings]
    assert report.records == ledger.size() > 100


def test_reopening_sees_the_same_history(db_url: str, make_ledger: Callable[[str], Ledger]) -> None:
    first = make_ledger(db_url)
    size, last = first.size(), first.record_at(first.size() - 1).event_hash
    again = Ledger(db_url)
    try:
        assert (again.size(), again.record_at(size - 1).event_hash) == (size, last)
    finally:
        again.close()


def test_confidential_feedback_seals_reads_and_erases_on_each_backend(db_url: str,
                                                                      open_ledgers: list[Ledger]) -> None:
    import pyrage

    from ledger import commands as c
    from ledger import receipts, sealed
    from ledger.domain.feedback import Feedback
    from projections.describe import load

    ledger = Ledger(db_url, create=True)
    open_ledgers.append(ledger)
    signers = {stem: Signer.generate() for stem, _, _ in PEOPLE}
    identities: dict[str, object] = {}
    found_partnership(ledger, signers, Signer.generate(), lambda _t: None, age_identities=identities)
    ref, code = c.submit_feedback(ledger, signers["secretariat"], "C-1", "community-voices", "MARKER-pg-5e1")
    everything = _every_byte(db_url)
    # the dump holds the records (bytea as hex), so a marker in them would show
    assert b"community-voices".hex().encode() in everything or b"community-voices" in everything
    assert b"MARKER-pg-5e1" not in everything and b"MARKER-pg-5e1".hex().encode() not in everything
    item = load(ledger, Feedback, ref)
    digest = item.content["sealed"]["sha256"]
    age_file = sealed.get(ledger, digest)
    assert b"MARKER" not in age_file
    assert pyrage.decrypt(age_file, [identities["ombudsperson"]]) == b"MARKER-pg-5e1"
    c.on_feedback(ledger, signers["ombudsperson"], ref, lambda ctx, f: f.acknowledge())
    c.reply_to_feedback(ledger, signers["ombudsperson"], ref, "Heard.")
    reply = load(ledger, Feedback, ref).replies[0]["content"]["sealed"]["sha256"]
    mine = receipts.reply_identity(code, ledger.origin, "community-voices")
    assert pyrage.decrypt(sealed.get(ledger, reply), [mine]) == b"Heard."
    ledger.erase_sealed(signers["ombudsperson"], digest, "Retention period over")
    report = verify_ledger(ledger)
    assert report.ok, [f.line() for f in report.findings]
    with pytest.raises(NotFoundError, match="was erased on"):
        sealed.get(ledger, digest)


def _every_byte(db_url: str) -> bytes:
    """The whole database: the SQLite file with its WAL, or a PostgreSQL dump of every table."""
    import subprocess
    from pathlib import Path

    if not db_url.startswith("postgresql"):
        path = Path(db_url.removeprefix("sqlite:///"))
        return b"".join(f.read_bytes() for f in path.parent.glob(path.name + "*"))
    url = db_url.replace("postgresql+psycopg://", "postgresql://")
    return subprocess.run(["pg_dump", "--data-only", url], capture_output=True, check=True).stdout
