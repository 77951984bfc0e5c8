"""Benchmark (g), the "hammer": N client processes voting through two `ledger serve`
processes on one PostgreSQL database, against the in-process API on the same
database in the same run.

Set-up: the demo ledger, copied into a fresh PostgreSQL database; MT-4 opens
with every seated member present and a motion open for votes.  Work: members
change their votes (each change is one signed record).  Server-mediated: N real
client processes, each one member's key, prepare / sign locally / submit in a
loop, spread over two server processes.  In-process: the same votes through
``ledger.commands.cast_vote`` in this process (the baseline the bar names), and,
for comparison at the same concurrency, in N processes writing straight to the
database.  Rounds alternate; medians of
commands per second are compared (target: server >= 0.7 of in-process), with
p50/p99 latency of the server-mediated commands.  After the run, the number of
vote records added equals the number of acknowledged commands (none lost, none
doubled) and `ledger verify` passes.

Run: python -m benchmarks.bench_server [--clients 4] [--seconds 8] [--rounds 3]
         [--pg postgresql://postgres@127.0.0.1:5432/test]
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import redirect_stdout
from pathlib import Path

from benchmarks.common import median

VOTERS = ["cso-air", "cso-cycle", "party", "cso-tenants", "institute"]


def api_client_main(url: str, key: str, seconds: float, start_at: float) -> None:
    """One in-process API client: the same votes straight into the database, in its own process."""
    from ledger import Ledger, load_signer
    from ledger.commands import cast_vote
    from projections import views

    ledger = Ledger(url)
    views.attach(ledger)
    signer = load_signer(key)
    while time.time() < start_at:
        time.sleep(0.005)
    done, failures, end = 0, 0, time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            cast_vote(ledger, signer, "M-7", "yes" if done % 2 == 0 else "no")
            done += 1
        except Exception:  # a conflict that outlasted its retries: not acknowledged
            failures += 1
    ledger.close()
    print(json.dumps({"done": done, "failures": failures}))


def client_main(server: str, key: str, seconds: float, start_at: float) -> None:
    """One client process: vote yes/no alternately until time is up; print its latencies."""
    from cli import remote

    while time.time() < start_at:
        time.sleep(0.005)
    latencies, failures, number = [], 0, 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        choice = "yes" if number % 2 == 0 else "no"
        begun = time.perf_counter()
        try:
            with redirect_stdout(io.StringIO()):
                remote._write(server, ["motion", "vote", "M-7", choice, "--key", key])
            latencies.append(time.perf_counter() - begun)
        except Exception:  # counted: a refused or lost command is not acknowledged
            failures += 1
        number += 1
    print(json.dumps({"latencies": latencies, "failures": failures}))


def setup(pg: str, folder: Path) -> str:
    import psycopg

    name = f"bench_server_{int(time.time())}"
    base = pg.rsplit("/", 1)[0]
    with psycopg.connect(pg, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    url = f"{base}/{name}"
    ledger = [sys.executable, "-m", "cli.main"]
    subprocess.run([*ledger, "demo", "--dir", str(folder / "demo")], check=True, capture_output=True)
    demo = folder / "demo"
    vkey = subprocess.run([*ledger, "--db", str(demo / "ledger.db"), "checkpoint", "--vkey"], check=True,
                          capture_output=True, text=True).stdout
    (demo / "log.vkey").write_text(vkey)
    subprocess.run([*ledger, "--db", str(demo / "ledger.db"), "export", "--bundle", str(demo / "b.jsonl")],
                   check=True, capture_output=True)
    subprocess.run([*ledger, "--db", url, "import", str(demo / "b.jsonl"), "--trust", str(demo / "log.vkey")],
                   check=True, capture_output=True)
    subprocess.run([*ledger, "--db", url, "projections", "rebuild"], check=True, capture_output=True)
    keys = demo / "keys"
    for args in (["meeting", "attend", "MT-4", "--member", "Amara Okafor (Clean Air Now)", "--member",
                  "Mei Lin (Cycle Forward)", "--member", "Sam Whitfield (Civic Renewal Party)", "--member",
                  "Luis Moreno (Tenants' Union)", "--member", "Dr Ines Haddad (Urban Health Institute)",
                  "--key", str(keys / "secretariat.key")],
                 ["motion", "propose", "--meeting", "MT-4", "--item", "1", "--text", "Hammer.", "--key",
                  str(keys / "cso-air.key")],
                 ["motion", "second", "M-7", "--key", str(keys / "cso-cycle.key")],
                 ["motion", "open", "M-7", "--key", str(keys / "secretariat.key")]):
        subprocess.run([*ledger, "--db", url, *args], check=True, capture_output=True)
    return url


def vote_records(url: str) -> int:
    from sqlalchemy import create_engine, text

    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.connect() as conn:
        count = conn.execute(text("SELECT count(*) FROM ledger_events WHERE topic = 'motion.vote_cast'")).scalar()
    engine.dispose()
    return int(count or 0)


def in_process(url: str, keys: Path, seconds: float) -> float:
    from ledger import Ledger, load_signer
    from ledger.commands import cast_vote
    from projections import views

    ledger = Ledger(url)
    views.attach(ledger)
    signers = [load_signer(keys / f"{stem}.key") for stem in VOTERS]
    done, end = 0, time.monotonic() + seconds
    begun = time.perf_counter()
    while time.monotonic() < end:
        cast_vote(ledger, signers[done % len(signers)], "M-7", "yes" if (done // len(signers)) % 2 else "no")
        done += 1
    rate = done / (time.perf_counter() - begun)
    ledger.close()
    return rate


def api_processes(url: str, keys: Path, clients: int, seconds: float) -> tuple[float, int]:
    """The in-process API with the same concurrency: N processes writing straight to the database."""
    start_at = time.time() + 1.5
    procs = [subprocess.Popen([sys.executable, "-m", "benchmarks.bench_server", "--api-client", url,
                               str(keys / f"{VOTERS[i % len(VOTERS)]}.key"), str(seconds), str(start_at)],
                              stdout=subprocess.PIPE, text=True) for i in range(clients)]
    results = [json.loads(p.communicate()[0]) for p in procs]
    return sum(r["done"] for r in results) / seconds, sum(r["done"] for r in results)


def through_servers(servers: list[str], keys: Path, clients: int, seconds: float) -> tuple[float, list[float], int]:
    start_at = time.time() + 1.0
    procs = [subprocess.Popen([sys.executable, "-m", "benchmarks.bench_server", "--client", servers[i % len(servers)],
                               str(keys / f"{VOTERS[i % len(VOTERS)]}.key"), str(seconds), str(start_at)],
                              stdout=subprocess.PIPE, text=True) for i in range(clients)]
    results = [json.loads(p.communicate()[0]) for p in procs]
    latencies = [x for r in results for x in r["latencies"]]
    return len(latencies) / seconds, latencies, sum(r["failures"] for r in results)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--client":
        client_main(sys.argv[2], sys.argv[3], float(sys.argv[4]), float(sys.argv[5]))
        return
    if len(sys.argv) > 1 and sys.argv[1] == "--api-client":
        api_client_main(sys.argv[2], sys.argv[3], float(sys.argv[4]), float(sys.argv[5]))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    from tests.serving import serve_ledger

    with tempfile.TemporaryDirectory() as temp:
        folder = Path(temp)
        url = setup(args.pg, folder)
        keys = folder / "demo" / "keys"
        servers = [serve_ledger(url, folder, keys / "log.key", "--write-rate", "0") for _ in range(2)]
        try:
            before = vote_records(url)
            ours, base, same, all_latencies, acknowledged, failures = [], [], [], [], 0, 0
            for _ in range(args.rounds):
                count_before = vote_records(url)
                base.append(in_process(url, keys, args.seconds))
                rate, done = api_processes(url, keys, args.clients, args.seconds)
                same.append(rate)
                baseline_written = vote_records(url) - count_before
                assert baseline_written >= done
                rate, latencies, failed = through_servers([s.url for s in servers], keys, args.clients, args.seconds)
                ours.append(rate)
                all_latencies += latencies
                acknowledged += len(latencies) + baseline_written
                failures += failed
            added = vote_records(url) - before
        finally:
            for server in servers:
                server.stop()
        verified = subprocess.run([sys.executable, "-m", "cli.main", "--db", url, "verify", "--state",
                                   str(folder / "verifier")], capture_output=True, text=True)
    q = statistics.quantiles(all_latencies, n=100)
    print(f"server-mediated ({args.clients} client processes, 2 servers, PostgreSQL): median {median(ours):.1f} "
          f"commands/s; in-process API: median {median(base):.1f} commands/s; ratio {median(ours) / median(base):.2f} "
          f"(target >= 0.7)")
    print(f"in-process API with the same concurrency ({args.clients} processes straight to the database): median "
          f"{median(same):.1f} commands/s; server-mediated / that {median(ours) / median(same):.2f}")
    print(f"latency through the server: p50 {q[49] * 1000:.0f} ms, p99 {q[98] * 1000:.0f} ms; "
          f"{failures} commands not acknowledged")
    print(f"vote records added {added}, acknowledged commands {acknowledged}: "
          f"{'equal' if added == acknowledged else 'DIFFERENT'}; verify: "
          f"{'OK' if verified.returncode == 0 else 'FAILED ' + verified.stdout[-300:]}")


if __name__ == "__main__":
    main()
