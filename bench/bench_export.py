"""Export and results benchmark (not a test): 100 000 answers to `anslutning`, measured in one run.

Prints: the XLSX export time as a ratio to openpyxl's write-only mode writing the same cells, the export's
peak memory growth, the CSV export time and the results page time (through the test client, logged in).
Targets (docs/benchmarks.md): ratio <= 1.25, memory growth < 60 MiB, CSV < 2 s, results page < 150 ms.

    .venv/bin/python bench/bench_export.py [--answers 100000] [--database-url URL]

Without --database-url it uses a new SQLite file in a temporary folder. Run it from the project root.
"""

from __future__ import annotations

import argparse
import gc
import os
import re
import statistics
import sys
import tempfile
import time
import tracemalloc
from html import unescape
from pathlib import Path

import sqlalchemy as sa
from openpyxl import Workbook

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # this checkout's formsvc, not an installed one
sys.path.insert(0, str(Path(__file__).resolve().parent))

from seed import SLUG, seed  # noqa: E402

from formsvc import create_app  # noqa: E402
from formsvc.catalog import catalog  # noqa: E402
from formsvc.database import upgrade_schema  # noqa: E402
from formsvc.export import answer_columns, answer_rows, headers, write_csv, write_xlsx  # noqa: E402
from formsvc.extensions import db  # noqa: E402
from formsvc.models import Response  # noqa: E402
from formsvc.staff.models import StaffUser  # noqa: E402

MIB = 1024 * 1024
EMAIL, PASSWORD = "bench@example.org", "ett långt bänklösenord"


def rss_peak_reset() -> bool:
    """Reset the kernel's peak-RSS mark for this process (Linux), so VmHWM measures from now."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def vm(name: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(name + ":"):
            return int(line.split()[1]) * 1024
    return 0


def timed(work) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process). With SQLite all the work is in this process, and CPU time
    is what other programs on a busy machine disturb least, so ratios are taken from it."""
    gc.collect()
    start, cpu = time.perf_counter(), time.process_time()
    work()
    return time.perf_counter() - start, time.process_time() - cpu


def baseline(rows: list[list], target: Path) -> None:
    """openpyxl's write-only mode writing the same cells, with nothing else to do."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Svar")
    for row in rows:
        sheet.append(row)
    workbook.save(target)


def results_page_ms(app, runs: int = 7) -> tuple[float, float]:
    client = app.test_client()
    page = client.get("/staff/login").get_data(as_text=True)
    token = unescape(re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1))
    login = client.post("/staff/login", data={"csrf_token": token, "email": EMAIL, "password": PASSWORD})
    assert login.status_code == 303, login.status_code
    url = f"/staff/forms/{SLUG}/results"
    assert client.get(url).status_code == 200  # warm: templates compiled, connections open
    wall, cpu = [], []
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        response = client.get(url)
        wall.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
        assert response.status_code == 200
    return statistics.median(wall), statistics.median(cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--answers", type=int, default=100_000)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="formsvc-bench-"))
    url = args.database_url or f"sqlite:///{folder / 'bench.sqlite3'}"
    app = create_app(
        {"TESTING": True, "SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": url, "RATELIMIT_ENABLED": False,
         "FORMSVC_MAIL_DIR": str(folder / "mail")}
    )  # fmt: skip
    with app.app_context():
        upgrade_schema()
        have = db.session.scalar(sa.select(sa.func.count(Response.id)).where(Response.form_slug == SLUG))
        db.session.commit()  # SQLite: end the read, which holds the write lock (BEGIN IMMEDIATE)
        if have != args.answers:
            if have:
                sys.exit(f"{url} has {have} answers to {SLUG}, not {args.answers}: use an empty database")
            started = time.perf_counter()
            seed(args.answers)
            print(f"seeded {args.answers} answers in {time.perf_counter() - started:.1f} s")
        with db.engine.begin() as connection:  # fresh statistics, as autovacuum/ANALYZE would have
            connection.exec_driver_sql("ANALYZE")
        if not db.session.scalar(sa.select(StaffUser).filter_by(email=EMAIL)):
            user = StaffUser(email=EMAIL)
            user.set_password(PASSWORD)
            db.session.add(user)
            db.session.commit()
        definition = catalog().get(SLUG)
        current = db.session.scalar(sa.select(sa.func.count()).where(Response.form_slug == SLUG, Response.is_current))
        db.session.commit()

        columns = answer_columns(definition)
        cells = [headers(columns), *answer_rows(definition, columns)]
        print(f"{current} current answers, {len(cells[0])} columns, {sum(len(r) for r in cells)} cells per export")

        xlsx, base = [], []
        for _ in range(3):  # alternate, best of three each: the machine may be busy with other work
            base.append(timed(lambda: baseline(cells, folder / "baseline.xlsx")))
            xlsx.append(timed(lambda: write_xlsx(definition, folder / "export.xlsx")))
        cells.clear()
        gc.collect()

        rss_ok = rss_peak_reset()
        rss_before = vm("VmRSS")
        tracemalloc.start()
        write_xlsx(definition, folder / "export-traced.xlsx")
        _, traced_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        rss_growth = vm("VmHWM") - rss_before if rss_ok else None

        def csv_export():
            with (folder / "export.csv").open("wb") as target:
                write_csv(definition, target)

        csv_time = min(timed(csv_export) for _ in range(2))
        results_ms = results_page_ms(app)

    wall, cpu = min(x[0] for x in xlsx) / min(b[0] for b in base), min(x[1] for x in xlsx) / min(b[1] for b in base)
    print(f"database: {url.split(':')[0]}")
    print(f"XLSX export: {min(x[0] for x in xlsx):.2f} s wall, {min(x[1] for x in xlsx):.2f} s CPU; "
          f"openpyxl write-only, same cells: {min(b[0] for b in base):.2f} s wall, {min(b[1] for b in base):.2f} s CPU")
    print(f"XLSX ratio: {cpu:.2f} by CPU time, {wall:.2f} by wall time (target <= 1.25)")
    print(f"XLSX export peak memory growth: Python heap {traced_peak / MIB:.1f} MiB (tracemalloc)"
          + (f", process RSS {rss_growth / MIB:.1f} MiB" if rss_growth is not None else "")
          + " (target < 60 MiB)")  # fmt: skip
    print(f"CSV export: {csv_time[0]:.2f} s wall, {csv_time[1]:.2f} s CPU (target < 2 s)")
    print(f"results page: {results_ms[0]:.0f} ms wall, {results_ms[1]:.0f} ms CPU, median of 7 (target < 150 ms)")
    print(f"load average while running: {' '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs")
    print(f"files in {folder}")


if __name__ == "__main__":
    main()
