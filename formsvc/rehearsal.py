"""A rehearsal: the requests a new worker sends itself before it takes a visitor's.

A worker's first requests build what every later one reuses: compiled templates (the form pages, the
mails), compiled SQL statements, a database connection, the memory pages a forked worker copies on first
touch. Under load that cost 25 to 50 ms on the first answer of each new worker, on a visitor's time.
gunicorn.conf.py rehearses in the master before the first fork (what it builds, every worker inherits)
and again in each new worker before it accepts a request (its own connection, its own copied pages).

A rehearsed answer goes through the same code as a real one and is rolled back: `write_transaction` keeps
nothing while `g.rehearsal` is set, and the answer's version id is not remembered (it was never committed).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask, g

from .catalog import catalog
from .definitions import FormDefinition, field_type

CSRF_TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def rehearse(app: Flask, every_form: bool = True) -> None:
    """Render every page a visitor starts from, compile every template, and store (and roll back) one
    answer to each form. `every_form` False, in a new worker: the first form's page and answer only. What
    the master built the worker inherits; it needs its own connection (on PostgreSQL a new server process,
    which reads its catalogue on its first queries) and its own copies of the memory a request touches."""
    forms = _forms(app) if every_form else _forms(app)[:1]
    client = app.test_client()
    client.get("/")
    client.get("/healthz")
    for definition in forms:
        page = client.get(f"/f/{definition.slug}").get_data(as_text=True)
        token = CSRF_TOKEN.search(page)
        client.post(f"/f/{definition.slug}", data={"csrf_token": token[1] if token else ""})  # the error page
    if every_form:
        for name in app.jinja_env.list_templates():
            app.jinja_env.get_template(name)
    from .answers import store_answer  # answers imports the features that hook into it

    for definition in forms:
        with app.test_request_context(), rehearsing():
            try:
                store_answer(definition, sample_answers(definition), f"rehearsal-{definition.slug}")
            except Exception:  # a rehearsal only saves time: a form it cannot rehearse is served all the same
                app.logger.warning("The rehearsal of form %s failed", definition.slug, exc_info=True)


def _forms(app: Flask) -> list[FormDefinition]:
    with app.app_context():  # an app with no forms (a benchmark's bare app under this gunicorn.conf.py): none
        return list(catalog()) if "formsvc_catalog" in app.extensions else []


@contextmanager
def rehearsing() -> Iterator[None]:
    """Meanwhile `database.write_transaction` rolls back what it was given to write."""
    g.rehearsal = True
    try:
        yield
    finally:
        g.rehearsal = False


def sample_answers(definition: FormDefinition) -> dict[str, Any]:
    """An answer of the right shape for every field: the first options where there are options (as many
    as a ranking ranks), else the type's own example of a stored value."""
    answers = {}
    for spec in definition.fields:
        kind = field_type(spec.type)
        keys = [choice.key for choice in spec.choices]
        if keys:
            picked = keys[: spec.rank or spec.min_choices or 1]
            answers[spec.key] = picked if kind.multiple else picked[0]
        else:
            answers[spec.key] = kind.examples.stored
    return answers
