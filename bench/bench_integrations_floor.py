"""What integrations cost one answer, in process: POST /f/anslutning (a record form) with them off and on.

    python bench/bench_integrations_floor.py [--rounds 1200] [--profile]

"On" is as in bench_integrations.py: one webhook endpoint for every event and FORMSVC_REGISTRAR_EMAIL set;
no sender runs. Each answer is timed through app.test_client() on one CPU, on a SQLite file with the
app's settings (WAL, synchronous=FULL): the CPU time the process took (steadier than the wall time on a
machine shared with other work) and the wall time, each the median of a chunk of answers, off and on
interleaved in twenty chunks, the least disturbed chunk counting. --profile prints where the "on" answers'
time went (cProfile, cumulative). It also prints what does not depend on the machine's load: the SQL
statements and the Python function calls of one answer.
"""

from __future__ import annotations

import argparse
import cProfile
import logging
import pstats
import re
import secrets
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_integrations import REGISTRAR, prepare, run_settings  # noqa: E402

from formsvc import create_app  # noqa: E402

CHUNKS = 20


def answer(token: str) -> dict:
    key = secrets.token_urlsafe(12)
    return {
        "csrf_token": token, "submission_key": key, "organisation": f"Organisation {key}",
        "organisationstyp": "kommun", "kontaktperson": "Kim Exempel", "epost": f"k{key}@example.org",
        "fokusomraden": "makt", "samtycke": "y",
    }  # fmt: skip


def client_and_token(on: bool, folder: Path):
    run_folder = folder / ("on" if on else "off")
    run_folder.mkdir()
    url = f"sqlite:///{run_folder / 'bench.sqlite3'}"
    config = run_settings(url, run_folder, on)
    prepare(url, run_folder, config, "http://127.0.0.1:9/webhook" if on else None)
    app = create_app(config)
    assert bool(app.config.get("FORMSVC_REGISTRAR_EMAIL")) == on and (not on or REGISTRAR)
    client = app.test_client()
    page = client.get("/f/anslutning").get_data(as_text=True)
    return client, re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)


def medians(client, token: str, rounds: int) -> tuple[float, float]:
    """Median CPU and wall milliseconds of one answer."""
    cpu, wall = [], []
    for _ in range(rounds):
        data = answer(token)
        started, started_cpu = time.perf_counter(), time.process_time()
        response = client.post("/f/anslutning", data=data)
        cpu.append(time.process_time() - started_cpu)
        wall.append(time.perf_counter() - started)
        assert response.status_code == 303, response.status_code
    return sorted(cpu)[rounds // 2] * 1000, sorted(wall)[rounds // 2] * 1000


def counts(client, token: str, rounds: int = 50) -> tuple[float, float]:
    """SQL statements and Python function calls per answer."""
    from formsvc.extensions import db

    statements = []
    with client.application.app_context():
        engine = db.engine
    listener = lambda *args: statements.append(args[2])  # noqa: E731 (before_cursor_execute's statement)
    sa.event.listen(engine, "before_cursor_execute", listener)
    profile = cProfile.Profile()
    try:
        profile.runcall(medians, client, token, rounds)
    finally:
        sa.event.remove(engine, "before_cursor_execute", listener)
    calls = pstats.Stats(profile).total_calls
    return len(statements) / rounds, calls / rounds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=1200)
    parser.add_argument("--profile", action="store_true")
    options = parser.parse_args()
    logging.disable(logging.INFO)
    folder = Path(tempfile.mkdtemp(prefix="formsvc-bench-integ-"))
    clients = {on: client_and_token(on, folder) for on in (False, True)}
    for client, token in clients.values():
        medians(client, token, 50)  # warm up: templates, statements
    results = {on: [] for on in clients}
    for _ in range(CHUNKS):  # interleaved, so a busy moment of the machine hits both
        for on, (client, token) in clients.items():
            results[on].append(medians(client, token, options.rounds // CHUNKS))
    for on, rows in results.items():
        # The least disturbed chunk: other work on the machine only ever adds time.
        cpu, wall = min(row[0] for row in rows), min(row[1] for row in rows)
        print(f"integrations {'on ' if on else 'off'}: {cpu:.2f} ms CPU, {wall:.2f} ms wall per answer")
    for on, (client, token) in clients.items():
        statements, calls = counts(client, token)
        name = "on " if on else "off"
        print(f"integrations {name}: {statements:.1f} SQL statements, {calls:.0f} Python calls per answer")
    if options.profile:
        client, token = clients[True]
        profile = cProfile.Profile()
        profile.runcall(medians, client, token, options.rounds)
        pstats.Stats(profile).sort_stats("cumulative").print_stats(45)
        pstats.Stats(profile).sort_stats("cumulative").print_stats("registration|events|answers.py|json|uuid|write_transaction")


if __name__ == "__main__":
    main()
