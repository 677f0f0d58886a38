"""The shipped gunicorn.conf.py: workers are replaced one at a time under steady load, with nothing lost and
no request refused; tokens in link paths never reach the access log; in-memory rate limits are announced.

Each test starts gunicorn with the project's config on a loopback port (production settings), as
test_load.py does; no timing is asserted, only what the log and the responses show.
"""

from __future__ import annotations

import http.client
import re
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlencode

import pytest
from conftest import free_port
from test_load import app, fast_url  # noqa: F401 (fixtures: the app on a database that commits fast)

ROOT = Path(__file__).resolve().parent.parent
WORKERS = 3
MAX_REQUESTS = 40  # with a jitter of 20: each worker is replaced after 40 to 60 requests
CLIENTS, PER_CLIENT = 4, 160  # 640 requests: about a dozen replacements


class Server:
    """gunicorn -c gunicorn.conf.py with extra options, its log (stdout and stderr) in a file."""

    def __init__(self, tmp_path: Path, settings: dict, *options: str):
        self.port = free_port()
        self.log_path = tmp_path / f"gunicorn-{self.port}.log"
        settings = {
            "SECRET_KEY": uuid.uuid4().hex + uuid.uuid4().hex,
            "FORMSVC_PUBLIC_URL": f"http://127.0.0.1:{self.port}",
            "FORMSVC_SECRETARIAT_EMAIL": "sekretariat@example.org",
            "MAIL_SERVER": None,
            "FORMSVC_MAIL_DIR": str(tmp_path / "mail"),
            **settings,
        }
        command = [
            sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"),
            "--bind", f"127.0.0.1:{self.port}", "--workers", str(WORKERS), *options,
            f"formsvc:create_app({settings!r})",
        ]  # fmt: skip
        self.log = self.log_path.open("wb")
        self.process = subprocess.Popen(command, cwd=ROOT, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while self.log_text().count("Booting worker") < WORKERS or not self.answers():
            assert self.process.poll() is None and time.monotonic() < deadline, self.log_text()
            time.sleep(0.2)

    def answers(self) -> bool:
        try:
            return self.get("/healthz")[0] == 200
        except OSError:
            return False

    def request(self, method: str, path: str, body: str | None = None, headers: dict | None = None):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            connection.request(method, path, body=body, headers=headers or {})
            response = connection.getresponse()
            return response.status, response.getheader("Set-Cookie"), response.read().decode()
        finally:
            connection.close()

    def get(self, path: str):
        return self.request("GET", path)

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> str:
        # A worker that gets the TERM before it has set up its own signal handlers never sees it (gunicorn
        # forks with the master's handlers), and the master waits its graceful timeout: let boots finish.
        deadline = time.monotonic() + 10
        while self.log_text().count("Booting worker") > self.log_text().count("Worker ready"):
            if time.monotonic() > deadline:
                break
            time.sleep(0.05)
        self.process.terminate()
        self.process.wait(timeout=30)
        self.log.close()
        return self.log_text()


@pytest.fixture
def start(tmp_path):
    servers = []

    def start(settings: dict, *options: str) -> Server:
        servers.append(Server(tmp_path, settings, *options))
        return servers[-1]

    yield start
    for server in servers:
        if server.process.poll() is None:
            server.stop()


def replacements_overlap(log: str) -> tuple[int, int]:
    """(workers replaced, the most ever down at once), read from gunicorn's log in the order written."""
    replaced = down = most = 0
    booted = 0
    for line in log.splitlines():
        if "Autorestarting worker" in line:
            replaced += 1
            down += 1
            most = max(most, down)
        elif "Booting worker with pid" in line:
            booted += 1
            if booted > WORKERS:  # a replacement, not one of the first workers
                down -= 1
    return replaced, most


def test_under_steady_load_workers_are_replaced_one_at_a_time_and_no_request_fails(app, start):  # noqa: F811
    """Sent: 640 requests from 4 clients at once (form pages, answers and health checks), with workers
    replaced every 40 to 60 requests; before, all workers could stop together and boot for a second each."""
    server = start(
        {"SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"], "RATELIMIT_ENABLED": False},
        "--max-requests", str(MAX_REQUESTS), "--max-requests-jitter", str(MAX_REQUESTS // 2),
    )  # fmt: skip

    def client(number: int) -> list[int]:
        status, cookie, html = server.get("/f/nyhetsbrev")
        csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie.split(";")[0]}
        statuses = [status]
        for index in range(PER_CLIENT - 1):
            if index % 3 == 0:
                body = urlencode({"csrf_token": csrf, "epost": f"c{number}-{index}@example.org", "samtycke": "y"})
                statuses.append(server.request("POST", "/f/nyhetsbrev", body, headers)[0])
            else:
                statuses.append(server.get("/f/nyhetsbrev" if index % 3 == 1 else "/healthz")[0])
        return statuses

    with ThreadPoolExecutor(CLIENTS) as pool:
        statuses = [status for result in pool.map(client, range(CLIENTS)) for status in result]
    log = server.stop()
    assert len(statuses) == CLIENTS * PER_CLIENT
    assert set(statuses) <= {200, 303}, sorted(set(statuses))
    assert "Traceback" not in log and "Worker timeout" not in log
    replaced, most_down = replacements_overlap(log)
    assert replaced >= 6, log  # several recycle points were crossed
    assert most_down == 1, log


def test_tokens_in_link_paths_never_reach_the_access_log(app, start, tmp_path):  # noqa: F811
    """Sent: an invitation link, a newsletter confirm and an unsubscribe link with made-up tokens; and a
    form page. The access log has the paths with the tokens replaced, and the master warned that the
    in-memory rate limits are per worker."""
    access_log = tmp_path / "access.log"
    server = start({"SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"]},
                   "--access-logfile", str(access_log))
    secrets = {f"/i/{'S' * 43}": "/i/[token]",
               f"/newsletter/confirm/{'C' * 43}": "/newsletter/confirm/[token]",
               f"/newsletter/unsubscribe/{'U' * 43}": "/newsletter/unsubscribe/[token]"}
    for path in secrets:
        assert server.get(path)[0] == 404
    assert server.get("/f/nyhetsbrev?epost=a@example.org")[0] == 200
    log = server.stop()
    written = access_log.read_text()
    for path, shown in secrets.items():
        assert f'"GET {shown}" 404' in written
        assert path.rsplit("/", 1)[1] not in written and path.rsplit("/", 1)[1] not in log
    assert '"GET /f/nyhetsbrev" 200' in written  # other paths as they are; no query string
    assert log.count("RATE LIMITS ARE PER WORKER") == 1, log
