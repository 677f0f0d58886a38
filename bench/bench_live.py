"""Benchmark (not a test): a meeting of 200 participants votes in a live round served by gunicorn.

Each participant is a thread with its own cookie: it opens /live/<code> (GET) and sends a ranking (POST).
A headless Chromium shows the staff projector page meanwhile, with live.js polling as in the meeting room.
Prints how many votes were stored (must be all), the p50/p99 latency of the vote POST, the time until
every participant had voted, and how long after the last vote the projector showed the final count.

    python bench/bench_live.py                       # SQLite file in a temporary folder
    python bench/bench_live.py --database postgresql+psycopg://postgres@127.0.0.1:5432/test
    python bench/bench_live.py --spread 8            # participants arrive over 8 s instead of all at once

Run from the project root with the project's Python; exits 1 when a vote is lost or it takes over 10 s.
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import re
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from html import unescape
from pathlib import Path
from urllib.parse import urlencode

import sqlalchemy as sa
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
OPTIONS = [
    "barn_unga_vald", "utrikesfodda_kvinnor", "upptacka_vald", "brottsforebyggande", "folkhalsa",
    "integration", "demokrati", "barnratt", "manskliga_rattigheter",
]  # fmt: skip
STAFF_EMAIL = "bench@example.org"
LIMIT_SECONDS = 10.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Browserless:
    """An HTTP client with one cookie jar of one cookie (Flask's session), like one phone."""

    def __init__(self, port: int):
        self.port = port
        self.cookie = ""

    def request(self, method: str, path: str, form: list | dict | None = None) -> tuple[int, dict, str]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        headers = {"Cookie": self.cookie} if self.cookie else {}
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        text = response.read().decode()
        if response.getheader("Set-Cookie"):
            self.cookie = response.getheader("Set-Cookie").split(";", 1)[0]
        connection.close()
        return response.status, dict(response.getheaders()), text


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"', html)
    return unescape(found.group(1) or found.group(2))


def prepare_database(url: str | None, folder: Path) -> tuple[str, callable]:
    """A fresh database for the run, and a function that removes it afterwards."""
    if not url:
        return f"sqlite:///{folder / 'bench.sqlite3'}", lambda: None
    base = make_url(url)
    name = f"formsvc_bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')

    def drop():
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()

    return base.set(database=name).render_as_string(hide_password=False), drop


def run_cli(env: dict, *args: str, stdin: str | None = None) -> None:
    subprocess.run([sys.executable, "-m", "formsvc.cli", *args], cwd=ROOT, env=env, input=stdin, text=True,
                   check=True, capture_output=True)


def start_gunicorn(env: dict, port: int, workers: int, threads: int) -> subprocess.Popen:
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--workers", str(workers), "--worker-class", "gthread",
         "--threads", str(threads), "--bind", f"127.0.0.1:{port}", "--backlog", "512", "formsvc:create_app()"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if Browserless(port).request("GET", "/healthz")[0] == 200:
                return server
        except OSError:
            time.sleep(0.1)
    server.kill()
    raise SystemExit("gunicorn did not start: " + (server.stderr.read() if server.stderr else ""))


def start_round(port: int, password: str) -> tuple[Browserless, int, str]:
    staff = Browserless(port)
    _status, _headers, html = staff.request("GET", "/staff/login")
    status, _headers, _ = staff.request(
        "POST", "/staff/login", {"csrf_token": csrf_of(html), "email": STAFF_EMAIL, "password": password}
    )
    assert status == 303, f"staff login failed: {status}"
    _status, _headers, html = staff.request("GET", "/staff/live/")
    status, headers, _ = staff.request(
        "POST", "/staff/live/",
        {"csrf_token": csrf_of(html), "question": "prioritering:prioriteringar", "mode": "device", "title": "Bänk"},
    )
    assert status == 303, f"starting the round failed: {status}"
    round_id = int(headers["Location"].rstrip("/").rsplit("/", 1)[1])
    _status, _headers, html = staff.request("GET", f"/staff/live/{round_id}")
    code = re.search(r'class="join-code">([^<]+)<', html).group(1).replace(" ", "")
    return staff, round_id, code


class Projector:
    """The projector page in headless Chromium; notes the wall-clock time it first shows `expected` votes."""

    def __init__(self, port: int, staff: Browserless, round_id: int, expected: int):
        from playwright.sync_api import sync_playwright

        self._playwright = sync_playwright().start()
        self._browser = self._playwright.chromium.launch(
            executable_path="/usr/bin/chromium", headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        context = self._browser.new_context()
        name, value = staff.cookie.split("=", 1)
        context.add_cookies([{"name": name, "value": value, "url": f"http://127.0.0.1:{port}"}])
        self.page = context.new_page()
        self.page.goto(f"http://127.0.0.1:{port}/staff/live/{round_id}")
        # Record when the count on the page first reads `expected` (Date.now() is the same clock as time.time()).
        self.page.evaluate(
            """expected => {
                const count = document.querySelector("[data-live='voters']");
                window.__shownAt = null;
                new MutationObserver(() => {
                    if (window.__shownAt === null && count.textContent.trim() === String(expected)) {
                        window.__shownAt = Date.now();
                    }
                }).observe(count, {childList: true, characterData: true, subtree: true});
            }""",
            expected,
        )

    def shown_at(self, timeout: float = 15.0) -> float:
        # Asked from outside every 20 ms (wait_for_function would need eval, which the page's CSP forbids).
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            shown = self.page.evaluate("() => window.__shownAt")
            if shown is not None:
                return shown / 1000
            time.sleep(0.02)
        raise SystemExit(f"the projector did not show the final count within {timeout:.0f} s")

    def close(self) -> None:
        self._browser.close()
        self._playwright.stop()


def poll_until(port: int, staff: Browserless, round_id: int, expected: int, interval: float) -> float:
    """Without a browser: poll tally.json as live.js does; the time the count first reads `expected`."""
    while True:
        _status, _headers, body = staff.request("GET", f"/staff/live/{round_id}/tally.json")
        if f'"voters":{expected}' in body.replace(" ", ""):
            return time.time()
        time.sleep(interval)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--participants", type=int, default=200)
    parser.add_argument("--database", help="a PostgreSQL URL; a new database is made in it (default: SQLite)")
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--spread", type=float, default=0.0, help="seconds over which participants arrive")
    parser.add_argument("--no-browser", action="store_true", help="poll tally.json instead of running Chromium")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        url, drop_database = prepare_database(args.database, Path(folder))
        env = {**os.environ, "FORMSVC_DATABASE_URL": url, "FORMSVC_SECRET_KEY": secrets.token_hex(32),
               "FORMSVC_PUBLIC_URL": "http://127.0.0.1", "PYTHONPATH": str(ROOT)}
        password = secrets.token_urlsafe(16)
        run_cli(env, "init-db")
        run_cli(env, "staff", "add", STAFF_EMAIL, stdin=password + "\n")
        port = free_port()
        server = start_gunicorn(env, port, args.workers, args.threads)
        projector = None
        try:
            staff, round_id, code = start_round(port, password)
            if not args.no_browser:
                projector = Projector(port, staff, round_id, args.participants)
            result = vote(port, code, args.participants, args.spread)
            if projector:
                shown = projector.shown_at()
            else:
                shown = poll_until(port, staff, round_id, args.participants, interval=1.0)
            engine = sa.create_engine(url)
            with engine.connect() as connection:
                stored = connection.execute(
                    sa.text("SELECT count(*) FROM live_votes WHERE round_id = :id"), {"id": round_id}
                ).scalar_one()
            engine.dispose()
        finally:
            if projector:
                projector.close()
            server.terminate()
            server.wait(timeout=30)
            drop_database()

    latencies = sorted(result["latencies"])
    p99 = latencies[max(0, int(len(latencies) * 0.99 + 0.5) - 1)]
    lag = shown - result["last_ack"]
    backend = make_url(url).get_backend_name()
    print(f"live vote benchmark: {args.participants} participants, gunicorn {args.workers} workers x "
          f"{args.threads} threads, {backend}, {'burst' if not args.spread else f'spread over {args.spread:g} s'}")
    print(f"  accepted (303)         {result['accepted']} / {args.participants}")
    print(f"  stored in the database {stored} / {args.participants}")
    print(f"  all voted within       {result['wall']:.2f} s (limit {LIMIT_SECONDS:g} s)")
    print(f"  vote POST latency      p50 {statistics.median(latencies) * 1000:.0f} ms, "
          f"p99 {p99 * 1000:.0f} ms, max {latencies[-1] * 1000:.0f} ms")
    print(f"  projector showed {args.participants:<4}  {lag:.2f} s after the last vote was acknowledged "
          f"({'Chromium, live.js' if not args.no_browser else 'polling tally.json every 1 s'})")
    ok = stored == args.participants == result["accepted"] and result["wall"] <= LIMIT_SECONDS
    print("  result                 " + ("OK" if ok else "FAILED"))
    return 0 if ok else 1


def vote(port: int, code: str, participants: int, spread: float) -> dict:
    """Every participant opens the page and votes; all start together (or arrive over `spread` seconds)."""
    chooser = random.Random(2026)
    rankings = [chooser.sample(OPTIONS, 3) for _ in range(participants)]
    arrivals = sorted(chooser.uniform(0, spread) for _ in range(participants)) if spread else [0.0] * participants
    latencies: list[float] = []
    statuses: list[int] = []
    lock = threading.Lock()
    start = threading.Barrier(participants + 1)
    acknowledged: list[float] = []

    def participant(index: int) -> None:
        phone = Browserless(port)
        start.wait()
        time.sleep(arrivals[index])
        _status, _headers, html = phone.request("GET", f"/live/{code}")
        form = [("csrf_token", csrf_of(html)), *[("prioriteringar", key) for key in rankings[index]]]
        began = time.perf_counter()
        status, _headers, _body = phone.request("POST", f"/live/{code}", form)
        took = time.perf_counter() - began
        with lock:
            latencies.append(took)
            statuses.append(status)
            acknowledged.append(time.time())

    threads = [threading.Thread(target=participant, args=(i,)) for i in range(participants)]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    return {
        "latencies": latencies,
        "accepted": statuses.count(303),
        "wall": time.perf_counter() - began,
        "last_ack": max(acknowledged),
    }


if __name__ == "__main__":
    sys.exit(main())
