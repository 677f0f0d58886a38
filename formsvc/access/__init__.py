"""Staff roles and who may do what: Administratör, Handläggare, Läsare (see policy.py), and the pages where
Administratörs manage staff accounts."""

from __future__ import annotations

from flask import Flask

from .models import ADMIN, HANDLAGGARE, LASARE, ROLE_LABELS, ROLES
from .policy import check_access, may_visit

__all__ = ["ADMIN", "HANDLAGGARE", "LASARE", "ROLES", "ROLE_LABELS", "init_app"]


def init_app(app: Flask) -> None:
    from . import pages  # the pages use the staff package's guard; the staff package does not use these

    app.before_request(check_access)
    app.jinja_env.globals["may_visit"] = may_visit
    app.register_blueprint(pages.bp)
