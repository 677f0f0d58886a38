"""Latency at a steady offered load (open loop), under gunicorn with worker recycling on, as in production.

    python bench/bench_latency.py [--duration 30] [--database sqlite|postgresql] [--database-url URL]

1. The answer POST's closed-loop maximum, measured in this run: wrk at 16 connections, as
   bench_throughput.py does (each connection sends its next request as soon as it has an answer).
2. An open loop at half that rate for --duration seconds: every request starts on its schedule whether or
   not the earlier ones have finished, so a stall shows as the waiting it causes (no coordinated omission).
   Each request is a new answer to the newsletter form (CSRF on, durable commit, the sign-up and its mail),
   on a new connection, timed from its scheduled start until the response is complete (its
   Content-Length read, as a browser or proxy has it). It starts 2 seconds after the closed loop, on a
   server that has caught up.
gunicorn runs with the project's gunicorn.conf.py, worker recycling as shipped (FORMSVC_MAX_REQUESTS, 5000
with half as much jitter); --max-requests 500 replaces each worker several times within the run. The
workers replaced are counted, and the disk's sync times during the run are printed (a cloud disk that
stalls for 100 ms holds every commit up, whatever the service does).
Target (docs/benchmarks-throughput.md): no errors, p99 <= 3 x p50. Exits 1 when missed.
Needs wrk (Debian: apt-get install wrk); PostgreSQL: a server that --database-url reaches, where a
database is made for the run and dropped after.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_live import prepare_database as new_database  # noqa: E402
from bench_throughput import POST_SCRIPT, ROOT, post_run, prepare_database, session_and_token, settings  # noqa: E402
from bench_throughput import gunicorn as start_gunicorn  # noqa: E402

P99_OVER_P50 = 3.0
TIMEOUT = 30.0
DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


async def one_answer(port: int, start: float, number: int, cookie: str, token: str, run: str) -> tuple[float, bool]:
    """Send answer `number` at its scheduled time; (seconds from schedule to response, acknowledged)."""
    await asyncio.sleep(max(0.0, start - time.monotonic()))
    body = urlencode({"csrf_token": token, "submission_key": f"lat-{run}-{number}",
                      "epost": f"l{run}.{number}@example.org", "samtycke": "y"}).encode()
    request = (f"POST /f/nyhetsbrev HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nCookie: {cookie}\r\n"
               f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(body)}\r\n"
               "Connection: close\r\n\r\n").encode() + body
    try:
        async with asyncio.timeout(TIMEOUT):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(request)
            await writer.drain()
            status = (await reader.readline()).split()[1]
            headers = (await reader.readuntil(b"\r\n\r\n")).lower()
            length = int(headers.split(b"content-length:")[1].split(b"\r\n")[0])
            await reader.readexactly(length)
            # The response is complete at its Content-Length, as for a browser or a proxy: what the worker
            # does after it, before it closes the connection (formsvc/checkpoints.py), nobody waits for.
            seconds = time.monotonic() - start
            writer.close()
        ok = status == b"303"
    except (OSError, TimeoutError, IndexError, ValueError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
        seconds, ok = time.monotonic() - start, False
    return seconds, ok


async def open_loop(port: int, rate: float, duration: float, cookie: str, token: str) -> list[tuple[float, bool]]:
    """Start each answer at its scheduled time. A task is made only when its turn comes: thousands of
    sleeping tasks made up front would make this process's own garbage collection stall it (100 ms and
    more), and that stall would be counted as the server's."""
    count = int(rate * duration)
    begin = time.monotonic() + 0.5
    run = os.urandom(4).hex()
    tasks = []
    gc.disable()  # likewise: the client's collections are not the server's latency (it makes few cycles)
    try:
        for n in range(count):
            start = begin + n / rate
            await asyncio.sleep(max(0.0, start - time.monotonic() - 0.002))  # wake just before, then wait there
            tasks.append(asyncio.create_task(one_answer(port, start, n, cookie, token, run)))
        return await asyncio.gather(*tasks)
    finally:
        gc.enable()


class DiskProbe:
    """A thread that writes and syncs 4 KiB every 20 ms beside the database, and times it."""

    def __init__(self, path: Path):
        self.path, self.times, self.stop = path, [], threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def __enter__(self) -> DiskProbe:
        self.thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self.stop.set()
        self.thread.join()

    def run(self) -> None:
        descriptor = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            while not self.stop.wait(0.02):
                os.pwrite(descriptor, os.urandom(4096), 0)
                start = time.monotonic()
                os.fdatasync(descriptor)  # as SQLite commits
                self.times.append((time.monotonic() - start) * 1000)
        finally:
            os.close(descriptor)

    def median(self) -> float:
        return statistics.median(self.times) if self.times else 0.0

    def longest(self) -> float:
        return max(self.times, default=0.0)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=int, default=30, help="seconds of the open-loop run")
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--database-url", default=DEFAULT_POSTGRES,
                        help=f"PostgreSQL server to make the run's database in (default {DEFAULT_POSTGRES})")
    parser.add_argument("--max-requests", type=int, default=None,
                        help="requests after which a worker is replaced (FORMSVC_MAX_REQUESTS; jitter half); "
                             "default: as shipped")
    parser.add_argument("--workers", type=int, default=None, help="default: the config's (2 x cores + 1)")
    options = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed (Debian: apt-get install wrk)")

    folder = Path(tempfile.mkdtemp(prefix="formsvc-latency-"))
    url, drop = new_database(options.database_url if options.database == "postgresql" else None, folder)
    try:
        prepare_database(url, folder)
        if options.max_requests is not None:
            os.environ["FORMSVC_MAX_REQUESTS"] = str(options.max_requests)
        max_requests = os.environ.get("FORMSVC_MAX_REQUESTS", "5000")
        workers = options.workers or (os.cpu_count() or 1) * 2 + 1
        log_path = folder / "gunicorn.log"
        service, port = start_gunicorn(f"formsvc:create_app({settings(url, folder)!r})", workers, ROOT,
                                       max_requests=None, log=log_path)
        try:
            script = folder / "post.lua"
            script.write_text(POST_SCRIPT)
            closed = post_run(service, port, "/f/nyhetsbrev", script, min(10, options.duration))
            rate = closed["rate"] / 2
            cookie, token = session_and_token(port)
            time.sleep(2)
            replaced_before = log_path.read_text(errors="replace").count("Autorestarting worker")
            with DiskProbe(folder / "probe") as disk:
                results = asyncio.run(open_loop(port, rate, options.duration, cookie, token))
            replaced = log_path.read_text(errors="replace").count("Autorestarting worker") - replaced_before
        finally:
            service.terminate()
            service.wait()
    finally:
        drop()
        shutil.rmtree(folder, ignore_errors=True)

    latencies = [seconds * 1000 for seconds, _ok in results]
    errors = sum(1 for _seconds, ok in results if not ok)
    p50, p99 = statistics.median(latencies), percentile(latencies, 0.99)
    ok = errors == 0 and p99 <= P99_OVER_P50 * p50
    print(f"gunicorn.conf.py, {workers} sync workers, replaced every {max_requests} requests "
          f"(+ jitter), database {options.database}, {os.cpu_count()} CPU cores")
    print(f"closed loop (wrk, 16 connections): {closed['rate']:.0f} answers/s; open loop at half: {rate:.0f}/s "
          f"for {options.duration} s, {len(results)} answers, {replaced} workers replaced meanwhile")
    print(f"{'p50 ms':>8}{'p99 ms':>9}{'max ms':>9}{'errors':>8}{'p99/p50':>9}  target")
    print(f"{p50:>8.1f}{p99:>9.1f}{max(latencies):>9.1f}{errors:>8}{p99 / p50:>9.2f}  "
          f"no errors, p99/p50 <= {P99_OVER_P50:g}  {'ok' if ok else 'MISSED'}")
    print(f"disk meanwhile: fdatasync of 4 KiB every 20 ms took {disk.median():.1f} ms (median), "
          f"{disk.longest():.1f} ms at most")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
