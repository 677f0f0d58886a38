"""Throughput under gunicorn, as ratios to a bare Flask "hello" route measured in the same run.

    python bench/bench_throughput.py [--duration 10] [--workers 4] [--database-url URL]

Four wrk runs at 16 connections, one after the other, each against gunicorn with the same settings:
  1. hello: a bare Flask app whose route returns "hello" (the ceiling on this machine);
  2. form page: GET /f/anslutning (the fullest form, with the organisation register);
  3. answer POST: POST /f/nyhetsbrev with CSRF on, a new submission key per request and a durable commit
     (SQLite WAL with synchronous=FULL by default, in a file on disk), the newsletter sign-up and its
     confirmation mail stored with the answer;
  4. floor, for comparison (no target): POST /floor, a route bench_floor.py adds that does the least a stored
     answer can (the request cycle with session and CSRF check, one INSERT, a durable commit, a 303).
Targets (docs/benchmarks-throughput.md): GET >= 0.35, POST >= 0.15 of hello. The runs saturate the
service: each connection sends its next request as soon as it has an answer, so the latency is mostly
waiting in line (16 requests in the queue / requests per second, Little's law); p99 is printed, and its
target is bench_latency.py's, at a steady offered load. "cpu ms" is the
CPU time gunicorn and its workers took per request (from /proc: Linux only).
Needs wrk (Debian: apt-get install wrk).
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from flask import Flask

ROOT = Path(__file__).resolve().parent.parent
CONNECTIONS = 16
TARGETS = {"get": 0.35, "post": 0.15}

# Each wrk run (the warm-up too) gets its own BENCH_RUN, so no run repeats another's submission keys or
# addresses: wrk's math.random starts from the same seed every time.
POST_SCRIPT = """
local counter = 0
local id = 0
function setup(thread)
  thread:set("id", os.getenv("BENCH_RUN") .. "-" .. math.random(1, 1000000000))
end
function init(args)
  id = wrk.thread:get("id")
end
request = function()
  counter = counter + 1
  local body = "csrf_token=" .. os.getenv("BENCH_CSRF") .. "&submission_key=bench-" .. id .. "-" .. counter
    .. "&epost=b" .. id .. "." .. counter .. "%40example.org&samtycke=y"
  return wrk.format("POST", os.getenv("BENCH_PATH"), {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Cookie"] = os.getenv("BENCH_COOKIE"),
  }, body)
end
"""


def hello_app() -> Flask:
    """The ceiling: Flask's smallest route, served the same way."""
    app = Flask("hello")
    app.add_url_rule("/", "hello", lambda: "hello")
    return app


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def gunicorn(
    app_spec: str, workers: int, chdir: Path, max_requests: int | None = 0, log: Path | None = None
) -> tuple[subprocess.Popen, int]:
    """gunicorn with the project's config; max_requests None keeps the config's worker recycling."""
    port = free_port()
    command = [
        sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"), "--bind", f"127.0.0.1:{port}",
        "--workers", str(workers), "--access-logfile", "/dev/null", "--chdir", str(chdir),
        "--log-level", "info" if log else "warning",
        # Steady state: no worker is replaced mid-run (max_requests), whose first requests would be slow.
        *(["--max-requests", str(max_requests)] if max_requests is not None else []),
        app_spec,
    ]  # fmt: skip
    output = log.open("wb") if log else None
    process = subprocess.Popen(command, cwd=chdir, stdout=output, stderr=output)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/")
            connection.getresponse().read()
            return process, port
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit(f"gunicorn did not start: {app_spec}")


def server_cpu_seconds(server: subprocess.Popen) -> float:
    """User and system CPU time of gunicorn and its workers so far (Linux /proc)."""
    pids = [server.pid, *map(int, Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split())]
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime in clock ticks
    return total / os.sysconf("SC_CLK_TCK")


def wrk(server: subprocess.Popen, url: str, duration: int, script: str | None = None, env: dict | None = None) -> dict:
    """One measured wrk run, after a second's unmeasured one: each worker's first requests compile
    templates and statements. Also the server's CPU time per request: steadier than the rate on a
    machine whose neighbours take CPU now and then."""
    command = ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{duration}s", "--latency", url]
    if script:
        command[1:1] = ["-s", script]
    env = {**os.environ, **(env or {})}
    subprocess.run([*command[:-3], "-d1s", url], capture_output=True, check=True, env={**env, "BENCH_RUN": "w"})
    cpu_before = server_cpu_seconds(server)
    text = subprocess.run(command, capture_output=True, text=True, check=True, env={**env, "BENCH_RUN": "m"}).stdout
    cpu = server_cpu_seconds(server) - cpu_before
    requests = int(re.search(r"(\d+) requests in", text).group(1))
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
    p99 = _ms(re.search(r"99%\s+([\d.]+\w+)", text).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    socket_errors = re.search(r"Socket errors: (.*)", text)
    return {"rate": rate, "p99": p99, "bad": int(errors.group(1)) if errors else 0, "cpu_ms": cpu / requests * 1000,
            "socket_errors": socket_errors.group(1) if socket_errors else "", "raw": text}


def _ms(value: str) -> float:
    number, unit = re.match(r"([\d.]+)(\w+)", value).groups()
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def prepare_database(url: str, folder: Path) -> None:
    sys.path.insert(0, str(ROOT))
    from formsvc import create_app
    from formsvc.database import upgrade_schema

    app = create_app(settings(url, folder))
    with app.app_context():
        upgrade_schema()
        from formsvc.cli import demo_command  # the organisation register, as in production

        app.test_cli_runner().invoke(demo_command)


def settings(url: str, folder: Path) -> dict:
    return {
        "SECRET_KEY": os.urandom(32).hex(),
        "SQLALCHEMY_DATABASE_URI": url,
        "FORMSVC_PUBLIC_URL": "http://127.0.0.1",  # production refuses to start without one
        "RATELIMIT_ENABLED": False,  # one address sends everything; limits would measure themselves
        "MAIL_SERVER": None,
        "FORMSVC_MAIL_DIR": str(folder / "mail"),
        "FORMSVC_SECRETARIAT_EMAIL": "sekretariat@example.org",
    }


def session_and_token(port: int) -> tuple[str, str]:
    connection = http.client.HTTPConnection("127.0.0.1", port)
    connection.request("GET", "/f/nyhetsbrev")
    response = connection.getresponse()
    html = response.read().decode()
    cookie = response.getheader("Set-Cookie").split(";")[0]
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
    return cookie, token


def post_run(server: subprocess.Popen, port: int, path: str, script: Path, duration: int) -> dict:
    """A wrk run of POSTs to path, each a new answer to the newsletter form, from one visitor's session."""
    cookie, token = session_and_token(port)
    env = {"BENCH_CSRF": token, "BENCH_COOKIE": cookie, "BENCH_PATH": path}
    return wrk(server, f"http://127.0.0.1:{port}{path}", duration, str(script), env)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--workers", type=int, default=(os.cpu_count() or 1) * 2)
    parser.add_argument("--database-url", help="default: a new SQLite file in a temporary folder on disk")
    options = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed (Debian: apt-get install wrk)")

    folder = Path(tempfile.mkdtemp(prefix="formsvc-bench-"))
    url = options.database_url or f"sqlite:///{folder / 'bench.sqlite3'}"
    prepare_database(url, folder)
    results = {}
    hello, port = gunicorn("bench_throughput:hello_app()", options.workers, ROOT / "bench")
    try:
        results["hello"] = wrk(hello, f"http://127.0.0.1:{port}/", options.duration)
    finally:
        hello.terminate()
        hello.wait()
    script = folder / "post.lua"
    script.write_text(POST_SCRIPT)
    service, port = gunicorn(f"formsvc:create_app({settings(url, folder)!r})", options.workers, ROOT)
    try:
        results["get"] = wrk(service, f"http://127.0.0.1:{port}/f/anslutning", options.duration)
        results["post"] = post_run(service, port, "/f/nyhetsbrev", script, options.duration)
    finally:
        service.terminate()
        service.wait()
    floor, port = gunicorn(f"bench_floor:floor_app({settings(url, folder)!r})", options.workers, ROOT / "bench")
    try:
        results["floor"] = post_run(floor, port, "/floor", script, options.duration)
    finally:
        floor.terminate()
        floor.wait()

    ceiling = results["hello"]["rate"]
    print(f"gunicorn, {options.workers} sync workers, {CONNECTIONS} connections, {options.duration} s per run, "
          f"database {url.split(':')[0]}, {os.cpu_count()} CPU cores")
    print(f"{'route':<28}{'req/s':>10}{'ratio':>8}{'p99 ms':>9}{'errors':>8}{'cpu ms':>8}  target")
    passed = True
    names = {"hello": "hello (bare Flask)", "get": "GET /f/anslutning", "post": "POST /f/nyhetsbrev",
             "floor": "POST /floor (no target)"}  # fmt: skip
    for key, result in results.items():
        ratio = result["rate"] / ceiling
        target = ""
        if key in TARGETS:
            ok = ratio >= TARGETS[key] and result["bad"] == 0
            target = f">= {TARGETS[key]}"
            target += "  ok" if ok else "  MISSED"
            passed = passed and ok
        print(f"{names[key]:<28}{result['rate']:>10.0f}{ratio:>8.2f}{result['p99']:>9.1f}{result['bad']:>8}"
              f"{result['cpu_ms']:>8.2f}  {target}")
        if result["socket_errors"]:
            print(f"    socket errors: {result['socket_errors']}")
    shutil.rmtree(folder, ignore_errors=True)
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
