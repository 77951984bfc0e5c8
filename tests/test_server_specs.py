"""The served log and the network witness against clients written from the C2SP
spec texts alone (tlog-tiles v0.1.0, tlog-witness v1.0.0, signed-note,
tlog-cosignature): no code of the ledger's own Merkle, note or tile modules is
used to check them.  Then: fuzzing (no 500s, nothing written), and two
server processes on one PostgreSQL database."""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import struct
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cli.main import cli
from tests.serving import LEDGER, Process, free_port, http, ledger_cli, post_json, serve_ledger

# --- RFC 6962 and the tile layout, from the specs -----------------------------


def leaf(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node(a: bytes, b: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + a + b).digest()


def mth(leaves: list[bytes]) -> bytes:
    """RFC 6962 2.1 MTH over leaf hashes."""
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return node(mth(leaves[:k]), mth(leaves[k:]))


def path_of(m: int, leaves: list[bytes]) -> list[bytes]:
    """RFC 6962 2.1.1 PATH(m, D[n])."""
    if len(leaves) == 1:
        return []
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    if m < k:
        return [*path_of(m, leaves[:k]), mth(leaves[k:])]
    return [*path_of(m - k, leaves[k:]), mth(leaves[:k])]


def subproof(m: int, leaves: list[bytes], whole: bool) -> list[bytes]:
    """RFC 6962 2.1.2 SUBPROOF(m, D[n], b)."""
    n = len(leaves)
    if m == n:
        return [] if whole else [mth(leaves)]
    k = 1
    while k * 2 < n:
        k *= 2
    if m <= k:
        return [*subproof(m, leaves[:k], whole), mth(leaves[k:])]
    return [*subproof(m - k, leaves[k:], False), mth(leaves[:k])]


def tile_index(n: int) -> str:
    """tlog-tiles: zero-padded 3-digit path elements, all but the last prefixed with x."""
    groups = [f"{n % 1000:03d}"]
    while n >= 1000:
        n //= 1000
        groups.insert(0, f"{n % 1000:03d}")
    return "/".join(["x" + g for g in groups[:-1]] + [groups[-1]])


def read_note(text: str) -> tuple[str, list[tuple[str, bytes]]]:
    body, _, sigs = text.partition("\n\n")
    lines = []
    for line in sigs.splitlines():
        assert line.startswith("\u2014 ")
        name, blob = line[2:].rsplit(" ", 1)
        lines.append((name, base64.b64decode(blob)))
    return body + "\n", lines


def vkey_parts(vkey: str) -> tuple[str, bytes, int, bytes]:
    name, _hash, data = vkey.split("+", 2)  # base64 may hold '+' too
    raw = base64.b64decode(data)
    return name, bytes.fromhex(_hash), raw[0], raw[1:]


def check_log_signature(text: str, vkey: str) -> str:
    """signed-note: a signature line whose key hash matches, verifying over the body."""
    name, key_hash, _type, public = vkey_parts(vkey)
    body, lines = read_note(text)
    for signer, blob in lines:
        if signer == name and blob[:4] == key_hash:
            Ed25519PublicKey.from_public_bytes(public).verify(blob[4:], body.encode())
            return body
    raise AssertionError("no signature by the log key")


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("specs") / "demo"
    assert CliRunner().invoke(cli, ["demo", "--dir", str(directory)], catch_exceptions=False).exit_code == 0
    return directory


@pytest.fixture
def served(demo_dir: Path, tmp_path: Path):  # type: ignore[no-untyped-def]
    keeper = tmp_path / "keeper"
    shutil.copytree(demo_dir, keeper)
    server = serve_ledger("ledger.db", keeper, keeper / "keys" / "log.key")
    yield server, keeper
    server.stop()


def test_tiles_prove_inclusion_and_consistency_to_a_client_written_from_the_spec(served) -> None:  # type: ignore[no-untyped-def]
    server, keeper = served
    vkey = ledger_cli("--db", "ledger.db", "checkpoint", "--vkey", cwd=keeper).stdout.strip()
    # Grow the log past one full tile (256 records) so that levels 0 and 1 both appear.
    lines = [f"meeting schedule --committee K-1 --at 2035-0{1 + (i % 9)}-{10 + i % 18}T18:00:00Z"
             for i in range(75)]
    (keeper / "many.ledger").write_text("\n".join(lines) + "\n")
    done = ledger_cli("--db", "ledger.db", "apply", "many.ledger", "--key", "keys/secretariat.key", cwd=keeper,
                      env={"LEDGER_LOG_KEY": str(keeper / "keys" / "log.key")})
    assert done.returncode == 0, done.stderr
    status, headers, raw = http("GET", server.url + "/checkpoint")
    assert status == 200 and headers["content-type"].startswith("text/plain; charset=utf-8")
    assert "no-cache" in headers["cache-control"] or "max-age" in headers["cache-control"]
    body = check_log_signature(raw.decode(), vkey)
    origin, size_text, root_b64 = body.splitlines()[:3]
    size, root = int(size_text), base64.b64decode(root_b64)
    assert size > 256

    entries: list[bytes] = []
    full, rest = divmod(size, 256)
    for n in range(full + (1 if rest else 0)):
        suffix = "" if n < full else f".p/{rest}"
        status, headers, bundle = http("GET", f"{server.url}/tile/entries/{tile_index(n)}{suffix}")
        assert status == 200 and headers["content-type"] == "application/octet-stream"
        assert "immutable" in headers["cache-control"]
        offset = 0
        while offset < len(bundle):
            length = struct.unpack(">H", bundle[offset:offset + 2])[0]
            entries.append(bundle[offset + 2:offset + 2 + length])
            offset += 2 + length
        status, _h, level0 = http("GET", f"{server.url}/tile/0/{tile_index(n)}{suffix}")
        assert [level0[i:i + 32] for i in range(0, len(level0), 32)] == [leaf(e) for e in entries[n * 256:]]
    assert len(entries) == size
    hashes = [leaf(e) for e in entries]
    assert mth(hashes) == root
    for record in entries[:3]:
        json.loads(record)  # entries are the records' canonical JSON

    # Level 1: each hash is the MTH of a full level-0 tile; the partial level-1 tile has width 1.
    status, _h, level1 = http("GET", f"{server.url}/tile/1/000.p/{size // 256}")
    assert status == 200 and level1[:32] == mth(hashes[:256])
    assert http("GET", f"{server.url}/tile/1/000")[0] == 404  # not full yet: not served
    assert http("GET", f"{server.url}/tile/0/{tile_index(full + 1)}")[0] == 404

    # Inclusion of record 200 and consistency from size 128 (the demo) to now, from tiles alone,
    # checked against the ledger's own proofs (prove inclusion / consistency).
    proof = json.loads(ledger_cli("--db", "ledger.db", "prove", "inclusion", "200", cwd=keeper).stdout)
    assert [base64.b64decode(h) for h in proof["hashes"]] == path_of(200, hashes)
    consistency = json.loads(ledger_cli("--db", "ledger.db", "prove", "consistency", "128", str(size),
                                        cwd=keeper).stdout)
    assert [base64.b64decode(h) for h in consistency["hashes"]] == subproof(128, hashes, True)
    assert origin == "ledger.example.org/riverside-partnership"

    # The published site carries the same tree.
    published = ledger_cli("--db", "ledger.db", "publish", "site", cwd=keeper)
    assert published.returncode == 0, published.stderr
    assert (keeper / "site" / "log" / "checkpoint").read_bytes() == raw
    assert (keeper / "site" / "log" / "tile" / "entries" / "000").read_bytes() == http(
        "GET", f"{server.url}/tile/entries/000")[2]


@pytest.mark.parametrize("path", ["/tile/0/1", "/tile/0/0000", "/tile/64/000", "/tile/0/000.p/0",
                                  "/tile/0/000.p/256", "/tile/0/x000/001", "/tile/entries/abc", "/tile/0/000.p/999"])
def test_malformed_tile_paths_are_not_found(served, path: str) -> None:  # type: ignore[no-untyped-def]
    server, _keeper = served
    status, _h, body = http("GET", server.url + path)
    assert status == 404 and json.loads(body)["error"]["code"] == "not_found"


# --- tlog-witness v1.0.0 ----------------------------------------------------------


@pytest.fixture
def witness(served, tmp_path: Path):  # type: ignore[no-untyped-def]
    server, keeper = served
    assert ledger_cli("keys", "new", "w", "--dir", str(tmp_path), cwd=tmp_path).returncode == 0
    vkey = ledger_cli("--db", "ledger.db", "checkpoint", "--vkey", cwd=keeper).stdout.strip()
    wvkey = ledger_cli("witness", "key", str(tmp_path / "w.key"), "--name", "witness.example/w1",
                       cwd=tmp_path).stdout.strip()
    port = free_port()
    process = Process([LEDGER, "witness", "serve", "--key", str(tmp_path / "w.key"), "--name", "witness.example/w1",
                       "--state", str(tmp_path / "wstate"), "--trust", vkey, "--port", str(port)], tmp_path, port)
    yield server, keeper, process, wvkey
    process.stop()


def _add(url: str, old: int, proof: list[bytes], checkpoint: str) -> tuple[int, dict[str, str], str]:
    body = f"old {old}\n" + "".join(base64.b64encode(h).decode() + "\n" for h in proof) + "\n" + checkpoint
    status, headers, answer = http("POST", url + "/add-checkpoint", body.encode())
    return status, headers, answer.decode()


def test_the_witness_follows_the_tlog_witness_protocol(witness) -> None:  # type: ignore[no-untyped-def]
    server, keeper, process, wvkey = witness
    checkpoint = http("GET", server.url + "/checkpoint")[2].decode()
    body, _ = read_note(checkpoint)
    size = int(body.splitlines()[1])
    status, _h, answer = _add(process.url, 0, [], checkpoint)
    assert status == 200, answer
    # tlog-cosignature: "— name base64(keyhash(4) || timestamp(8) || sig(64))" over the cosignature message.
    name, key_hash, _type, public = vkey_parts(wvkey)
    line = answer.rstrip("\n")
    assert line.startswith(f"\u2014 {name} ")
    blob = base64.b64decode(line.rsplit(" ", 1)[1])
    assert blob[:4] == key_hash and len(blob) == 76
    timestamp = struct.unpack(">Q", blob[4:12])[0]
    Ed25519PublicKey.from_public_bytes(public).verify(
        blob[12:], f"cosignature/v1\ntime {timestamp}\n".encode() + body.encode())
    # Old size not the witness's latest: 409 with its size as text/x.tlog.size.
    status, headers, answer = _add(process.url, 5, [], checkpoint)
    assert (status, answer, headers["content-type"]) == (409, f"{size}\n", "text/x.tlog.size")
    # Old size above the checkpoint's: 400.  Unknown origin: 404.  No valid log signature: 403.
    assert _add(process.url, size + 1, [], checkpoint)[0] == 400
    other = checkpoint.replace("ledger.example.org/riverside-partnership", "elsewhere.example/log", 1)
    assert _add(process.url, 0, [], other)[0] == 404
    tampered = checkpoint.replace(body.splitlines()[2], base64.b64encode(b"\1" * 32).decode(), 1)
    assert _add(process.url, size, [], tampered)[0] == 403

    # The log grows; a wrong consistency proof is 422; the log's own client ('witness request') succeeds
    # and the cosignature is served with the checkpoint.
    grown = ledger_cli("--server", server.url, "meeting", "schedule", "--committee", "K-1", "--at",
                       "2035-03-01T18:00:00Z", "--key", "keys/secretariat.key", cwd=keeper)
    assert grown.returncode == 0, grown.stderr
    newer = http("GET", server.url + "/checkpoint")[2].decode()
    assert _add(process.url, size, [b"\0" * 32], newer)[0] == 422
    requested = ledger_cli("--db", "ledger.db", "witness", "request", process.url, "--vkey", wvkey, cwd=keeper)
    assert requested.returncode == 0, requested.stderr
    assert requested.stdout.startswith("witness witness.example/w1 cosigned the checkpoint of size ")
    assert f"\u2014 {name} " in http("GET", server.url + "/checkpoint")[2].decode()


# --- fuzzing ----------------------------------------------------------------------

JSONISH = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=30),
                       lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                                    max_size=4), max_leaves=12)
WORDS = st.sampled_from(["motion", "vote", "M-1", "yes", "--member", "meeting", "schedule", "--at", "K-1",
                         "keys", "rotate", "fund", "allocate", "--amount", "1e999", "../x", "/", "-", "--json",
                         "covenant", "draft", "apply", "serve", "show", "--as-of", "-1", "\u202e"])
BODIES = st.fixed_dictionaries({}, optional={"argv": st.lists(WORDS | st.text(max_size=12), max_size=8) | JSONISH,
                                             "key": st.sampled_from(["0" * 64, "x"]) | JSONISH,
                                             "at": JSONISH, "signatures": JSONISH, "files": JSONISH,
                                             "event_hashes": JSONISH, "format": JSONISH})


@pytest.mark.slow
def test_fuzzed_requests_never_crash_the_server_or_write(served) -> None:  # type: ignore[no-untyped-def]
    server, _keeper = served
    before = http("GET", server.url + "/checkpoint")[2]
    statuses: list[int] = []

    @settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
    @given(endpoint=st.sampled_from(["/v1/prepare", "/v1/submit", "/v1/query"]), body=BODIES)
    def one(endpoint: str, body: dict[str, object]) -> None:
        status, answer = post_json(server.url + endpoint, body)
        statuses.append(status)
        assert status < 500, (endpoint, body, answer)

    @settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
    @given(path=st.lists(WORDS | st.text(alphabet="abcx0123456789./p-", max_size=8), max_size=5))
    def get(path: list[str]) -> None:
        for prefix in ("/v1/", "/tile/"):
            status, _h, _b = http("GET", server.url + prefix + "/".join(
                __import__("urllib.parse").parse.quote(p, safe="") for p in path))
            assert status < 500, (prefix, path)

    one()
    get()
    assert http("GET", server.url + "/checkpoint")[2] == before
    assert 201 not in statuses and len(statuses) == 150


# --- two servers, one PostgreSQL -------------------------------------------------------


@pytest.mark.postgres
def test_two_server_processes_serve_one_postgresql_ledger(demo_dir: Path, tmp_path: Path, pg_server: str) -> None:
    from tests.conftest import reset_pg

    reset_pg(pg_server)
    keeper = tmp_path / "keeper"
    shutil.copytree(demo_dir, keeper)
    vkey = ledger_cli("--db", "ledger.db", "checkpoint", "--vkey", cwd=keeper).stdout.strip()
    (keeper / "log.vkey").write_text(vkey + "\n")
    assert ledger_cli("--db", "ledger.db", "export", "--bundle", "demo.jsonl", cwd=keeper).returncode == 0
    imported = ledger_cli("--db", pg_server, "import", "demo.jsonl", "--trust", "log.vkey", cwd=keeper)
    assert imported.returncode == 0, imported.stderr
    rebuilt = ledger_cli("--db", pg_server, "projections", "rebuild", cwd=keeper)  # a replica's views
    assert rebuilt.returncode == 0, rebuilt.stderr
    one = serve_ledger(pg_server, keeper, keeper / "keys" / "log.key")
    two = serve_ledger(pg_server, keeper, keeper / "keys" / "log.key")
    try:
        def act(server: Process, *args: str) -> None:
            done = ledger_cli("--server", server.url, *args, cwd=keeper)
            assert done.returncode == 0, (args, done.stderr)

        act(one, "meeting", "attend", "MT-4", "--member", "Amara Okafor (Clean Air Now)", "--member",
            "Mei Lin (Cycle Forward)", "--key", "keys/secretariat.key")
        act(two, "motion", "propose", "--meeting", "MT-4", "--item", "1", "--text", "Two servers.", "--key",
            "keys/cso-air.key")
        act(one, "motion", "second", "M-7", "--key", "keys/cso-cycle.key")
        act(two, "motion", "open", "M-7", "--key", "keys/secretariat.key")
        # Two members vote at the same moment through different servers.
        import subprocess

        voters = [subprocess.Popen([LEDGER, "--server", server.url, "motion", "vote", "M-7", "yes", "--key", key],
                                   cwd=keeper, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
                  for server, key in ((one, "keys/cso-air.key"), (two, "keys/cso-cycle.key"))]
        answers = [v.communicate(timeout=60)[1] for v in voters]  # also closes the pipes
        assert [v.returncode for v in voters] == [0, 0], answers
        status_one, shown_one = post_json(one.url + "/v1/query", {"argv": ["motion", "show", "M-7"]})
        status_two, shown_two = post_json(two.url + "/v1/query", {"argv": ["motion", "show", "M-7"]})
        assert status_one == status_two == 200 and shown_one == shown_two
        assert len(shown_one["votes"]) == 2
        assert http("GET", one.url + "/checkpoint")[2] == http("GET", two.url + "/checkpoint")[2]
    finally:
        one.stop()
        two.stop()
    verified = ledger_cli("--db", pg_server, "verify", cwd=keeper)
    assert verified.returncode == 0, verified.stdout + verified.stderr


def test_the_server_asks_its_witness_after_each_write(demo_dir: Path, tmp_path: Path) -> None:
    keeper = tmp_path / "keeper"
    shutil.copytree(demo_dir, keeper)
    assert ledger_cli("keys", "new", "w", "--dir", str(tmp_path), cwd=tmp_path).returncode == 0
    vkey = ledger_cli("--db", "ledger.db", "checkpoint", "--vkey", cwd=keeper).stdout.strip()
    wvkey = ledger_cli("witness", "key", str(tmp_path / "w.key"), "--name", "witness.example/w2",
                       cwd=tmp_path).stdout.strip()
    port = free_port()
    witness = Process([LEDGER, "witness", "serve", "--key", str(tmp_path / "w.key"), "--name", "witness.example/w2",
                       "--state", str(tmp_path / "wstate"), "--trust", vkey, "--port", str(port)], tmp_path, port)
    server = serve_ledger("ledger.db", keeper, keeper / "keys" / "log.key", "--witness", witness.url,
                          "--witness-key", wvkey)
    try:
        done = ledger_cli("--server", server.url, "meeting", "schedule", "--committee", "K-1", "--at",
                          "2035-03-01T18:00:00Z", "--key", "keys/secretariat.key", cwd=keeper)
        assert done.returncode == 0, done.stderr
        checkpoint = http("GET", server.url + "/checkpoint")[2].decode()
    finally:
        server.stop()
        witness.stop()
    body, lines = read_note(checkpoint)
    assert int(body.splitlines()[1]) == 130  # the demo's 128 and the two new records
    assert any(name == "witness.example/w2" for name, _blob in lines), checkpoint
