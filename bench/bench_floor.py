"""The least a stored answer can cost in this app, next to what the newsletter answer costs, in process.

    python bench/bench_floor.py

"Floor" is a route added here, not in the app: the request cycle (session cookie, the CSRF check, the
security headers), one INSERT with a durable commit, and a 303. The answer is POST /f/nyhetsbrev as a
visitor sends it. Both are timed through app.test_client() on one CPU, median of 400, on a SQLite file with
the app's settings (WAL, synchronous=FULL). docs/benchmarks-throughput.md says what the two figures mean for
the throughput targets.
"""

from __future__ import annotations

import logging
import re
import secrets
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa
from flask import redirect, request, session

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_throughput import prepare_database, settings  # noqa: E402

from formsvc import create_app  # noqa: E402
from formsvc.extensions import db  # noqa: E402

ROUNDS = 400


def floor():
    """One row, committed durably, and the receipt remembered in the session: nothing else."""
    key = request.form["submission_key"]
    db.session.execute(
        sa.text("INSERT INTO form_versions (form_slug, version, definition, first_seen_at) "
                "VALUES ('floor', :version, '{}', CURRENT_TIMESTAMP)"),
        {"version": secrets.token_hex(16)},  # unique, whatever key is sent
    )  # fmt: skip
    db.session.commit()
    session["receipts"] = [key[:9]]
    return redirect("/", 303)


def floor_app(config: dict):
    """The app with the floor route added, for gunicorn (bench_throughput.py runs it)."""
    app = create_app(config)
    app.add_url_rule("/floor", "floor", floor, methods=["POST"])
    return app


def median_ms(client, path: str, token: str) -> float:
    times = []
    for _ in range(ROUNDS):
        key = secrets.token_urlsafe(12)  # new every time, the warm-up's included
        answer = {"csrf_token": token, "submission_key": key, "epost": f"{key}@example.org", "samtycke": "y"}
        started = time.perf_counter()
        response = client.post(path, data=answer)
        times.append(time.perf_counter() - started)
        assert response.status_code == 303, (path, response.status_code)
    return sorted(times)[ROUNDS // 2] * 1000


def main() -> None:
    logging.disable(logging.INFO)  # the migrations' progress
    folder = Path(tempfile.mkdtemp(prefix="formsvc-bench-"))
    url = f"sqlite:///{folder / 'bench.sqlite3'}"
    prepare_database(url, folder)
    app = floor_app(settings(url, folder))
    client = app.test_client()
    page = client.get("/f/nyhetsbrev").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    for path in ("/floor", "/f/nyhetsbrev"):
        median_ms(client, path, token)  # warm up
    print(f"floor (request cycle, one INSERT, durable commit): {median_ms(client, '/floor', token):.2f} ms")
    print(f"POST /f/nyhetsbrev (the answer as sent):            {median_ms(client, '/f/nyhetsbrev', token):.2f} ms")


if __name__ == "__main__":
    main()
