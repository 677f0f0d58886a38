"""Request bodies are limited: about 1 MB anywhere, a few MB for the organisation register's upload.

Too big gets 413 and a clear page in the site's layout, before anything parses the body."""

from __future__ import annotations

import io
import re
from html import unescape

import sqlalchemy as sa
from conftest import STAFF_EMAIL, STAFF_PASSWORD, staff_user
from helpers import csrf_token, hidden_values, login, text_of

from formsvc.extensions import db
from formsvc.models import Organisation

MB = 1024 * 1024
TOO_BIG = "Det som skickades var för stort"


def test_a_2_mb_answer_gets_413_and_a_clear_page(client):
    """Bad input: 2 MB sent to a form, as one form field and as a file part of a multipart body."""
    token = hidden_values(client.get("/f/nyhetsbrev").get_data(as_text=True))["csrf_token"]
    as_file = client.post(
        "/f/nyhetsbrev",
        data={"csrf_token": token, "epost": "anna@example.org", "bilaga": (io.BytesIO(b"x" * 2 * MB), "a.bin")},
        content_type="multipart/form-data",
    )
    as_field = client.post("/f/nyhetsbrev", data={"csrf_token": token, "namn": "x" * 2 * MB})
    for response in (as_file, as_field):
        assert response.status_code == 413
        page = text_of(response)
        assert TOO_BIG in page and "mindre fil" in page
        assert 'href="/"' in response.get_data(as_text=True)  # the site's layout, with a way back

    english = client.post("/f/nyhetsbrev?lang=en", data={"namn": "x" * 2 * MB})
    assert english.status_code == 413 and "What was sent is too large" in text_of(english)


def test_an_answer_under_the_limit_is_read_as_usual(client):
    """Bad input: 600 kB spread over several fields (under 1 MB) gets the form's own messages, not 413."""
    token = hidden_values(client.get("/f/nyhetsbrev").get_data(as_text=True))["csrf_token"]
    response = client.post(
        "/f/nyhetsbrev",
        data={"csrf_token": token, **{f"extra{i}": "x" * 200_000 for i in range(3)}},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422


def register_csv(size: int) -> bytes:
    """A good register file of about `size` bytes: long names and contact names, every row valid."""
    heading = "name,type,contact_name,contact_email\n"
    row_size = 700
    lines = [heading]
    for n in range(size // row_size):
        name = f"Förening nummer {n} " + "x" * 150
        lines.append(f"{name},annan,{'Kontakt ' + 'y' * 520},kontakt{n}@example.org\n")
    return "".join(lines).encode()


def upload(client, data: bytes):
    token = csrf_token(client, "/staff/organisations/import")
    return client.post(
        "/staff/organisations/import",
        data={"csrf_token": token, "file": (io.BytesIO(data), "register.csv")},
        content_type="multipart/form-data",
    )


def test_a_3_mb_register_is_read_and_imported(app, staff_client):
    """A 3 MB upload (over the 1 MB limit of other pages, under the upload's) is previewed and imported."""
    data = register_csv(3 * MB)
    assert len(data) > 3 * MB
    preview = upload(staff_client, data)
    assert preview.status_code == 200, text_of(preview)[:500]
    rows = re.search(r'name="rows" type="hidden" value="([^"]*)"', preview.get_data(as_text=True))
    confirm = staff_client.post(
        "/staff/organisations/import/confirm",
        data={"csrf_token": csrf_token(staff_client, "/staff/"), "rows": unescape(rows.group(1)),
              "filename": "register.csv"},
    )
    assert confirm.status_code == 303
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Organisation.id))) == len(data.splitlines()) - 1


def test_a_20_mb_register_gets_413(app, staff_client):
    """Bad input: a 20 MB upload to the register import, and 20 MB sent to its confirmation."""
    response = upload(staff_client, b"name,type\n" + b"x" * 20 * MB)
    assert response.status_code == 413 and TOO_BIG in text_of(response)
    confirm = staff_client.post(
        "/staff/organisations/import/confirm",
        data={"csrf_token": csrf_token(staff_client, "/staff/"), "rows": "[" + " " * 20 * MB + "]"},
    )
    assert confirm.status_code == 413
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Organisation.id))) == 0


def test_the_upload_limit_is_a_setting(make_app):
    """FORMSVC_UPLOAD_MAX_BYTES set to 1 MB: a 2 MB register upload gets 413."""
    app = make_app(FORMSVC_UPLOAD_MAX_BYTES=MB)
    with app.app_context():
        db.session.add(staff_user())
        db.session.commit()
    client = app.test_client()
    assert login(client, STAFF_EMAIL, STAFF_PASSWORD).status_code == 303
    assert upload(client, register_csv(2 * MB)).status_code == 413


def test_a_stranger_gets_the_small_limit_on_the_upload_page(client):
    """Bad input: 3 MB posted to the register's upload without signing in. The upload's larger limit is for
    staff: the stranger gets 413 at once, before 3 MB are read (before, they were read and then refused)."""
    response = client.post(
        "/staff/organisations/import",
        data={"file": (io.BytesIO(register_csv(3 * MB)), "register.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 413
    small = client.post("/staff/organisations/import", data={"file": (io.BytesIO(b"name\n"), "r.csv")},
                        content_type="multipart/form-data")
    assert small.status_code == 400  # refused as before: no CSRF token


def test_a_chunked_body_over_the_limit_gets_413_not_cut_short(client):
    """Bad input: 2 MB sent chunked (no Content-Length, as gunicorn passes it on with wsgi.input_terminated).
    Werkzeug reads such a stream only up to the limit: the answer was cut at 1 MB and parsed as if whole.
    A chunked body under the limit is read as usual."""
    token = hidden_values(client.get("/f/nyhetsbrev").get_data(as_text=True))["csrf_token"]

    def chunked(extra: int):
        body = f"csrf_token={token}&epost=anna%40example.org&samtycke=y&namn={'x' * extra}".encode()
        return client.post(
            "/f/nyhetsbrev", input_stream=io.BytesIO(body), content_type="application/x-www-form-urlencoded",
            headers={"Transfer-Encoding": "chunked"}, environ_overrides={"wsgi.input_terminated": True},
        )  # fmt: skip

    too_big = chunked(2 * MB)
    assert too_big.status_code == 413 and TOO_BIG in text_of(too_big)
    assert chunked(300).status_code == 422  # read whole: the name is too long for the form, its own message
