"""Fixtures: real SQLite files and a real PostgreSQL database.

PostgreSQL tests use LEDGER_TEST_PG_URL (default: the local trust-auth
server).  Without a reachable server they skip on a developer's machine, but
fail under CI (CI=true), where the server must be there.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from ledger import Ledger, Signer

VECTORS = Path(__file__).resolve().parent / "vectors"  # vendored: see tests/vectors/README.md
PG_ADMIN_URL = os.environ.get("LEDGER_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
PG_TEST_DB = f"ledger_pytest_{os.getpid()}"  # one per test session: runs may overlap
ORIGIN = "ledger.example.org/test-partnership"


def _pg_url_for(database: str) -> str:
    base, _, _ = PG_ADMIN_URL.rpartition("/")
    return f"{base}/{database}"


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session; skip (or fail in CI) if none."""
    try:
        import psycopg

        with psycopg.connect(PG_ADMIN_URL.replace("postgresql+psycopg", "postgresql"), autocommit=True,
                             connect_timeout=3) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {PG_TEST_DB} WITH (FORCE)")
            conn.execute(f"CREATE DATABASE {PG_TEST_DB}")
    except Exception as exc:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is required in CI but unreachable: {exc}")
        pytest.skip(f"no PostgreSQL server: {exc}")
    yield _pg_url_for(PG_TEST_DB)
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {PG_TEST_DB} WITH (FORCE)")


def reset_pg(url: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP EVENT TRIGGER IF EXISTS ledger_refuse_ddl")  # it refuses to drop ledger tables
        conn.execute("DROP SCHEMA public CASCADE")
        conn.execute("CREATE SCHEMA public")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database URL on each backend, empty at the start of the test."""
    if request.param == "sqlite":
        return str(tmp_path / "ledger.db")
    url: str = request.getfixturevalue("pg_server")
    reset_pg(url)
    return url


@pytest.fixture
def sqlite_path(tmp_path: Path) -> Path:
    return tmp_path / "ledger.db"


class People:
    """Keys for a small cast, generated fresh for each test."""

    def __init__(self) -> None:
        self.founder = Signer.generate()
        self.log = Signer.generate()
        self.member = Signer.generate()
        self.clerk = Signer.generate()  # a second secretariat key


@pytest.fixture
def people() -> People:
    return People()


@pytest.fixture
def open_ledgers() -> Iterator[list[Ledger]]:
    ledgers: list[Ledger] = []
    yield ledgers
    for ledger in ledgers:
        ledger.close()


@pytest.fixture
def make_ledger(people: People, open_ledgers: list[Ledger]) -> Callable[[str], Ledger]:
    """Create a ledger at a URL: genesis by the founder, a member and a clerk."""

    def make(url: str) -> Ledger:
        ledger = Ledger(url, create=True)
        open_ledgers.append(ledger)
        ledger.init(origin=ORIGIN, name="Test Partnership", founder=people.founder, holder="Founder",
                    roles=["secretariat"], log_public=people.log.public_bytes)
        ledger.register_key(people.founder, people.member.public_b64, "Member One", ["member"])
        ledger.register_key(people.founder, people.clerk.public_b64, "Clerk", ["secretariat"])
        return ledger

    return make


@pytest.fixture(autouse=True)
def verifier_state(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test's `ledger verify` remembers in a folder of its own, never in the user's home."""
    state = tmp_path_factory.mktemp("verifier-state")
    monkeypatch.setenv("LEDGER_STATE_DIR", str(state))
    return state
