"""The demo partnership: a realistic ledger built end to end through the API.

``ledger demo`` runs :func:`build_demo`.  It uses only the public commands,
so the demo doubles as a worked example of the Python API.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

from ledger.application import Ledger
from ledger.keys import Signer, write_key_pair

ORIGIN = "ledger.example.org/riverside-partnership"
NAME = "Riverside Clean Air Partnership"

# (file stem, holder, roles)
PEOPLE = [
    ("secretariat", "Dana Reyes (Partnership Secretariat)", ["secretariat"]),
    ("party", "Sam Whitfield (Civic Renewal Party)", ["member"]),
    ("cso-air", "Amara Okafor (Clean Air Now)", ["member"]),
    ("cso-tenants", "Luis Moreno (Tenants' Union)", ["member"]),
    ("cso-cycle", "Mei Lin (Cycle Forward)", ["member"]),
    ("institute", "Dr Ines Haddad (Urban Health Institute)", ["member"]),
    ("ombudsperson", "Judge Ruth Adeyemi (Independent Ombudsperson)", ["ombudsperson"]),
    ("auditor", "Tomas Berg (External Auditor)", ["auditor"]),
]


def build_demo(directory: Path, echo: Callable[[str], None] = print) -> tuple[Ledger, dict[str, str]]:
    """Create DIR/ledger.db and DIR/keys/, record the partnership, return the ledger."""
    keys_dir = directory / "keys"
    db = directory / "ledger.db"
    # A fresh demo every time: old files would clash with the new genesis.
    for stale in (db, db.with_name("ledger.db-wal"), db.with_name("ledger.db-shm")):
        stale.unlink(missing_ok=True)
    if keys_dir.exists():
        shutil.rmtree(keys_dir)
    keys_dir.mkdir(parents=True)
    signers = {}
    for stem, _holder, _roles in PEOPLE:
        signers[stem] = Signer.generate()
        write_key_pair(signers[stem], keys_dir / stem)
    log_key = Signer.generate()
    write_key_pair(log_key, keys_dir / "log")

    ledger = Ledger(str(db), create=True)
    sec = signers["secretariat"]
    ledger.init(origin=ORIGIN, name=NAME, founder=sec, holder=PEOPLE[0][1], roles=["secretariat"],
                log_public=log_key.public_bytes)
    for stem, holder, roles in PEOPLE[1:]:
        ledger.register_key(sec, signers[stem].public_b64, holder, roles)
    echo(f"demo ledger {ORIGIN} in {db} with {len(PEOPLE)} keys under {keys_dir}/")
    return ledger, {"db": str(db), "keys": str(keys_dir)}
