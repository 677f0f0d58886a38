"""Registrar copies: answers to forms marked `record: true` are incoming documents. Each gets a PDF/UA copy,
mailed to the registrar (FORMSVC_REGISTRAR_EMAIL) through the outbox and downloadable by staff.

The answer is only marked; a sender queues a small mail for it afterwards (registration.py, dispatch.py),
and the mail sender makes the PDF (document.py) when it sends it. Staff downloads live in staff_views.py
(a blueprint from formsvc.staff_guard, behind the login guard).
"""

from __future__ import annotations

from flask import Flask

from ..dispatch import after_answer_stored
from ..mail import attach_when_sent
from . import staff_views
from .models import registrar_copy
from .registration import TEMPLATE, make_attachment, register_answer, registered


def init_app(app: Flask) -> None:
    app.register_blueprint(staff_views.bp)
    after_answer_stored(app, registered, register_answer)
    attach_when_sent(app, TEMPLATE, make_attachment)
    app.add_template_global(registrar_copy)  # templates/staff/response.html says where the copy is
