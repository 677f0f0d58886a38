"""A new worker's rehearsal (formsvc/rehearsal.py): it builds what the first visitors would wait for, and
keeps nothing."""

from __future__ import annotations

import logging

import sqlalchemy as sa
from helpers import submit

from formsvc.extensions import db
from formsvc.mail import OutboxMessage
from formsvc.models import AnswerValue, FormVersion, Response
from formsvc.rehearsal import rehearse

KEPT = (Response, AnswerValue, FormVersion, OutboxMessage)


def _counts(app) -> dict[str, int]:
    with app.app_context():
        return {model.__name__: db.session.scalar(sa.select(sa.func.count()).select_from(model)) for model in KEPT}


def test_a_rehearsal_keeps_nothing_and_every_shipped_form_rehearses(app, caplog):
    """Every shipped form is rehearsed (an answer to each, rolled back): no answer, value, form version
    or mail is left behind, and no form's rehearsal fails."""
    before = _counts(app)
    with caplog.at_level(logging.WARNING):
        rehearse(app)
    assert _counts(app) == before
    assert not [record for record in caplog.records if "rehearsal" in record.getMessage()]


def test_after_a_rehearsal_a_visitor_waits_for_no_template_and_the_answer_is_stored_whole(app):
    """The visitor's page, answer and thank-you page use only templates the rehearsal compiled; the answer
    refers to a form version that exists (the rehearsal's own version row was rolled back, and must not
    have been remembered)."""
    rehearse(app)
    compiled = set(app.jinja_env.cache.keys())
    client = app.test_client()
    sent = submit(client, "nyhetsbrev", {"epost": "efter@example.org", "samtycke": "y"})
    assert sent.status_code == 303
    assert client.get(sent.headers["Location"]).status_code == 200
    assert set(app.jinja_env.cache.keys()) == compiled
    with app.app_context():
        answer = db.session.scalars(sa.select(Response).filter_by(form_slug="nyhetsbrev")).one()
        assert answer.form_version is not None and answer.form_version.form_slug == "nyhetsbrev"


def test_a_form_that_cannot_be_rehearsed_is_logged_and_the_rest_still_are(app, caplog, monkeypatch):
    """Bad input tried: a form whose answer raises while it is stored. The rehearsal logs it and goes on."""
    import formsvc.answers

    real = formsvc.answers.store_answer

    def failing_for_nominering(definition, *args, **kwargs):
        if definition.slug == "nominering":
            raise RuntimeError("broken")
        return real(definition, *args, **kwargs)

    monkeypatch.setattr(formsvc.answers, "store_answer", failing_for_nominering)
    with caplog.at_level(logging.WARNING):
        rehearse(app)
    failed = [record.getMessage() for record in caplog.records if "rehearsal" in record.getMessage()]
    assert failed == ["The rehearsal of form nominering failed"]


def test_an_app_without_forms_is_rehearsed_without_failing(tmp_path):
    """Bad input: a bare Flask app (as the throughput benchmark serves under gunicorn.conf.py)."""
    from flask import Flask

    bare = Flask("bare", root_path=str(tmp_path))
    bare.add_url_rule("/", "hello", lambda: "hello")
    rehearse(bare)
