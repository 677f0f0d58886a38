"""Form definitions in the database: init-db loads the shipped files once, `forms import|export` move
them as YAML, and every worker serves a publish without a restart."""

from __future__ import annotations

import time
from pathlib import Path

import sqlalchemy as sa

from formsvc.audit import AuditEvent
from formsvc.config import resource_dir
from formsvc.definitions import load_file
from formsvc.editor.models import StoredForm
from formsvc.editor.store import read
from formsvc.extensions import db
from formsvc.models import FormVersion

SHIPPED = Path(resource_dir("forms"))
TITLE = "title: Anslut er organisation till länets strategi för jämställdhetsintegrering\n"


def _renamed(tmp_path: Path, title: str) -> Path:
    """anslutning.yaml with another title, in a folder of its own."""
    text = (SHIPPED / "anslutning.yaml").read_text(encoding="utf-8")
    assert TITLE in text
    path = tmp_path / "anslutning.yaml"
    path.write_text(text.replace(TITLE, f"title: {title}\n"), encoding="utf-8")
    return path


def test_init_db_loads_the_forms_folder_once(app, tmp_path):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["init-db"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert set(db.session.scalars(sa.select(StoredForm.slug))) == {p.stem for p in SHIPPED.glob("*.yaml")}
        # Each published form has its version row (its history) and an import in the audit log.
        versions = db.session.scalar(sa.select(sa.func.count()).select_from(FormVersion))
        assert versions == len(list(SHIPPED.glob("*.yaml")))
        assert db.session.scalar(sa.select(sa.func.count()).where(AuditEvent.action == "form_import")) > 0
    # Staff changed a form; a second init-db (a deploy) must not put the file's text back over it.
    assert runner.invoke(args=["forms", "import", str(_renamed(tmp_path, "Ändrad rubrik"))]).exit_code == 0
    result = runner.invoke(args=["init-db"])
    assert result.exit_code == 0 and "loaded" not in result.output
    with app.app_context():
        assert app.extensions["formsvc_catalog"].get("anslutning").title == "Ändrad rubrik"


def test_a_publish_in_one_worker_is_served_by_another(make_app, tmp_path):
    """Two app instances on one database, as two workers or hosts: the second shows the first's publish
    once its check interval has passed, without a restart."""
    interval = 0.2
    first = make_app(FORMSVC_CATALOG_CHECK_SECONDS=interval)
    second = make_app(FORMSVC_CATALOG_CHECK_SECONDS=interval)
    assert first.test_cli_runner().invoke(args=["init-db"]).exit_code == 0
    visitor = second.test_client()
    assert "Anslut er organisation" in visitor.get("/f/anslutning").get_data(as_text=True)  # page cached

    changed = _renamed(tmp_path, "Ny rubrik för anslutning")
    result = first.test_cli_runner().invoke(args=["forms", "import", str(changed)])
    assert result.exit_code == 0 and "anslutning: published" in result.output
    time.sleep(interval + 0.05)
    page = visitor.get("/f/anslutning").get_data(as_text=True)
    assert "Ny rubrik för anslutning" in page and "Anslut er organisation" not in page
    with second.app_context():
        assert second.extensions["formsvc_catalog"].get("anslutning").title == "Ny rubrik för anslutning"


def test_every_shipped_form_exported_and_imported_again_is_the_same_definition(app, tmp_path):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["init-db"]).exit_code == 0
    for path in sorted(SHIPPED.glob("*.yaml")):
        out = tmp_path / path.name
        assert runner.invoke(args=["forms", "export", path.stem, "-o", str(out)]).exit_code == 0
        assert read(out.read_text(encoding="utf-8"), path.stem).version == load_file(path).version
        stdout = runner.invoke(args=["forms", "export", path.stem]).output
        assert read(stdout, path.stem).version == load_file(path).version
        result = runner.invoke(args=["forms", "import", str(out)])
        assert result.output == f"{path.stem}: unchanged\n"


def test_import_refuses_a_bad_definition_and_stores_nothing(app, tmp_path):
    """Bad input: a folder with one good file and one whose field has no key."""
    good = "title: Bra\nfields:\n  - {key: namn, type: text, label: Namn}\n"
    (tmp_path / "bra.yaml").write_text(good, encoding="utf-8")
    (tmp_path / "trasig.yaml").write_text(good.replace("key: namn, ", ""), encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["forms", "import", str(tmp_path)])
    assert result.exit_code == 1
    assert "trasig.yaml:3:" in result.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(StoredForm)) == 0
        assert app.extensions["formsvc_catalog"].get("bra") is None


def test_export_of_an_unknown_form_says_so(app):
    result = app.test_cli_runner().invoke(args=["forms", "export", "finns-inte"])
    assert result.exit_code == 1 and "finns-inte" in result.output


def test_the_form_page_asks_the_database_for_the_generation_at_most_once_per_interval(make_app, monkeypatch):
    """Bad behaviour looked for: a generation query on every form page (it would slow every answer)."""
    app = make_app(FORMSVC_CATALOG_CHECK_SECONDS=3600)
    catalog = app.extensions["formsvc_catalog"]
    checks = []
    refresh = catalog.refresh
    monkeypatch.setattr(catalog, "refresh", lambda force=False: checks.append(1) or refresh(force))
    visitor = app.test_client()
    for _ in range(20):
        assert visitor.get("/f/anslutning").status_code == 200
    assert len(checks) == 1
