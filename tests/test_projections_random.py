"""Hypothesis: after random sequences of commands (some refused), the views kept
incrementally are identical to views rebuilt from the records."""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cli.main import cli
from ledger import Ledger, LedgerError, Signer, load_signer
from ledger import commands as c
from projections import views

MEMBERS = ["party", "cso-air", "cso-tenants", "cso-cycle", "institute"]
PARTIES = ["civic-renewal", "clean-air-now", "tenants-union", "cycle-forward", "urban-health"]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("random") / "demo"
    assert CliRunner().invoke(cli, ["demo", "--dir", str(directory)], catch_exceptions=False).exit_code == 0
    return directory


Op = Callable[[Ledger, dict[str, Signer]], Any]

operations = st.one_of(
    st.builds(lambda who, m, text: lambda led, k: c.attach_dissent(led, k[who], m, text),
              st.sampled_from(MEMBERS), st.sampled_from([f"M-{i}" for i in range(1, 8)]), st.text(min_size=1,
                                                                                                max_size=20)),
    st.builds(lambda party, cents: lambda led, k: c.pledge(led, k["secretariat"], "F-1", party,
                                                            f"{cents // 100}.{cents % 100:02d}"),
              st.sampled_from(PARTIES), st.integers(0, 10**7)),
    st.builds(lambda party, cents: lambda led, k: c.receive(led, k["secretariat"], "F-1", party,
                                                             f"{cents // 100}.{cents % 100:02d}", "ab" * 32),
              st.sampled_from(PARTIES), st.integers(1, 10**7)),
    st.builds(lambda cents: lambda led, k: c.disburse(led, k["secretariat"], "F-1", "F-1/A-1",
                                                       f"{cents // 100}.{cents % 100:02d}", "cd" * 32),
              st.integers(1, 3_000_000)),
    st.builds(lambda value, month: lambda led, k: c.report_progress(
        led, k["cso-air"], "MS-2", str(value), f"2026-{month:02d}-28", "ef" * 32, "progress"),
        st.integers(0, 60), st.integers(1, 12)),
    st.just(lambda led, k: led.register_key(k["secretariat"], Signer.generate().public_b64, "Newcomer", ["member"])),
)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(operations, min_size=1, max_size=6))
def test_incremental_views_equal_rebuilt_views(demo: Path, tmp_path_factory: pytest.TempPathFactory,
                                               ops: list[Op]) -> None:
    work = tmp_path_factory.mktemp("case")
    shutil.copy(demo / "ledger.db", work / "ledger.db")
    keys = {p.stem: load_signer(p) for p in (demo / "keys").glob("*.key")}
    ledger = Ledger(str(work / "ledger.db"))
    views.attach(ledger)
    try:
        for op in ops:
            with contextlib.suppress(LedgerError):  # refused by the rules: nothing written, views untouched
                op(ledger, keys)
        assert {k: v for k, v in views.status(ledger).items() if k != "views"} == {
            "position": ledger.size() - 1, "log_size": ledger.size()}
        incremental = views.digest(ledger)
        views.rebuild(ledger)
        assert views.digest(ledger) == incremental
    finally:
        ledger.close()
