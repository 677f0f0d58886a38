"""Answers per second with integrations on (a slow webhook receiver, registrar PDF copies), as a ratio to the
same run with both off.

    python bench/bench_integrations.py [--duration 10] [--workers 4] [--rounds 1]

Each round makes two wrk runs of answers to /f/anslutning (a record form: its answers get registrar copies),
each against a fresh SQLite database (WAL, durable commits) and gunicorn with the same settings, with
bench_throughput.py's machinery:
  1. off: no webhook endpoint, no FORMSVC_REGISTRAR_EMAIL;
  2. on: one endpoint for every event pointing at a loopback receiver that takes 2 s over each request, and
     FORMSVC_REGISTRAR_EMAIL=registrator@example.org, so every answer also queues its registrar copy (a PDF,
     made by the mail sender: see docs/integrations.md).
In both runs `formsvc mail send --watch 1` and `formsvc webhooks send --watch 1` run in processes of their
own, as in production, so their work (mail, PDFs, deliveries) competes with the answers for the CPU. The
answer path only adds rows; target: on / off >= 0.95 (the median over the rounds). Needs wrk.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from bench_throughput import ROOT, free_port, gunicorn, session_and_token, settings, wrk

TARGET = 0.95
RECEIVER_SECONDS = 2.0  # each webhook request takes this long
REGISTRAR = "registrator@example.org"

# One new answer to anslutning per request, from one visitor's session (see bench_throughput.POST_SCRIPT).
ANSLUTNING_SCRIPT = """
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
    .. "&organisation=Organisation+" .. id .. "&organisationstyp=kommun&kontaktperson=Kim+Exempel"
    .. "&epost=k" .. id .. "." .. counter .. "%40example.org&fokusomraden=makt&samtycke=y"
  return wrk.format("POST", "/f/anslutning", {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Cookie"] = os.getenv("BENCH_COOKIE"),
  }, body)
end
"""


class SlowReceiver:
    """A webhook receiver on loopback that takes RECEIVER_SECONDS over every request."""

    def __init__(self):
        self.count = 0

        class Handler(BaseHTTPRequestHandler):
            def do_POST(handler):  # noqa: N802, N805 (http.server's name; `self` is the receiver)
                handler.rfile.read(int(handler.headers["Content-Length"]))
                time.sleep(RECEIVER_SECONDS)
                self.count += 1
                handler.send_response(204)
                handler.send_header("Content-Length", "0")
                handler.end_headers()

            def log_message(handler, *args):  # noqa: N805
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/webhook"


def run_settings(url: str, folder: Path, on: bool) -> dict:
    # The service is "localhost" here, so that the receiver on 127.0.0.1 (another port) is not the service.
    extra = {"FORMSVC_WEBHOOK_ALLOWED_HOSTS": ["127.0.0.1"], "FORMSVC_PUBLIC_URL": "http://localhost"}
    if on:
        extra["FORMSVC_REGISTRAR_EMAIL"] = REGISTRAR
    return {**settings(url, folder), **extra}


def prepare(url: str, folder: Path, config: dict, receiver_url: str | None) -> None:
    """A migrated database with the organisation register; with an endpoint for every event if given."""
    sys.path.insert(0, str(ROOT))
    from formsvc import create_app
    from formsvc.cli import demo_command
    from formsvc.database import upgrade_schema
    from formsvc.extensions import db
    from formsvc.webhooks.models import EVENTS, WebhookEndpoint
    from formsvc.webhooks.pages import new_secret

    app = create_app(config)
    with app.app_context():
        upgrade_schema()
        app.test_cli_runner().invoke(demo_command)
        if receiver_url:
            db.session.add(
                WebhookEndpoint(url=receiver_url, events=list(EVENTS), secret=new_secret(), created_by="bench")
            )
            db.session.commit()
        db.engine.dispose()


def senders(config: dict, folder: Path) -> list[subprocess.Popen]:
    """The mail and webhook senders, each in a process of its own and at the lowest CPU priority, as
    docs/operations.md says to run them: answers first, PDFs and deliveries with the CPU time left over."""
    app = f"formsvc:create_app({config!r})"
    return [
        subprocess.Popen(
            ["nice", "-n", "19", sys.executable, "-m", "flask", "--app", app, *command, "send", "--watch", "1"],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=(folder / f"{command[0]}.log").open("wb"),
        )  # fmt: skip
        for command in (["mail"], ["webhooks"])
    ]


def one_run(options, folder: Path, on: bool, receiver: SlowReceiver) -> dict:
    name = "on" if on else "off"
    run_folder = folder / name
    run_folder.mkdir()
    url = f"sqlite:///{run_folder / 'bench.sqlite3'}"
    config = run_settings(url, run_folder, on)
    prepare(url, run_folder, config, receiver.url if on else None)
    script = run_folder / "post.lua"
    script.write_text(ANSLUTNING_SCRIPT)
    background = senders(config, run_folder)
    service, port = gunicorn(f"formsvc:create_app({config!r})", options.workers, ROOT)
    try:
        cookie, token = session_and_token(port)
        env = {"BENCH_CSRF": token, "BENCH_COOKIE": cookie}
        result = wrk(service, f"http://127.0.0.1:{port}/f/anslutning", options.duration, str(script), env)
    finally:
        service.terminate()
        service.wait()
        for process in background:
            process.terminate()
            process.wait()
    result["queued"] = _queued(config) if on else None
    return result


def _queued(config: dict) -> dict:
    """How far the senders got: webhook deliveries and outbox mails per status (for the report)."""
    import sqlalchemy as sa

    from formsvc import create_app
    from formsvc.extensions import db
    from formsvc.mail import OutboxMessage
    from formsvc.webhooks.models import WebhookDelivery

    app = create_app(config)
    with app.app_context():
        counts = {
            f"{label} {status}": count
            for label, model in (("webhook", WebhookDelivery), ("mail", OutboxMessage))
            for status, count in db.session.execute(
                sa.select(model.status, sa.func.count()).group_by(model.status)
            ).all()
        }
        db.engine.dispose()
    return counts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--workers", type=int, default=(os.cpu_count() or 1) * 2)
    parser.add_argument("--rounds", type=int, default=1, help="off/on pairs; the median ratio counts")
    options = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed (Debian: apt-get install wrk)")

    receiver = SlowReceiver()
    ratios = []
    print(f"gunicorn, {options.workers} sync workers, {options.duration} s per run, POST /f/anslutning, "
          f"webhook receiver taking {RECEIVER_SECONDS:g} s per request, {os.cpu_count()} CPU cores")  # fmt: skip
    print(f"{'round':<7}{'run':<6}{'req/s':>10}{'p99 ms':>9}{'errors':>8}{'cpu ms':>8}  queued after the run")
    for number in range(1, options.rounds + 1):
        folder = Path(tempfile.mkdtemp(prefix="formsvc-bench-integrations-"))
        try:
            results = {on: one_run(options, folder, on, receiver) for on in (False, True)}
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        for on, result in results.items():
            queued = ", ".join(f"{k} {v}" for k, v in sorted((result["queued"] or {}).items()))
            print(f"{number:<7}{'on' if on else 'off':<6}{result['rate']:>10.0f}{result['p99']:>9.1f}"
                  f"{result['bad']:>8}{result['cpu_ms']:>8.2f}  {queued}")  # fmt: skip
            if result["socket_errors"]:
                print(f"    socket errors: {result['socket_errors']}")
        ratios.append(results[True]["rate"] / results[False]["rate"])
        if any(result["bad"] for result in results.values()):
            ratios[-1] = 0.0  # an answer refused is a miss, whatever the rate
    ratio = statistics.median(ratios)
    passed = ratio >= TARGET
    print(f"answers/s with integrations on / off: {ratio:.2f} (target >= {TARGET})  {'ok' if passed else 'MISSED'}")
    print(f"webhook requests the receiver finished: {receiver.count}")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
