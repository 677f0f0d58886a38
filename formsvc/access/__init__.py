"""Staff roles and who may do what: Administratör, Handläggare, Läsare (see policy.py). The pages where
Administratörs manage staff accounts and roles are staff/accounts.py."""

from __future__ import annotations

from flask import Flask

from .models import ADMIN, HANDLAGGARE, LASARE, ROLE_LABELS, ROLES
from .policy import check_access, may_visit

__all__ = ["ADMIN", "HANDLAGGARE", "LASARE", "ROLES", "ROLE_LABELS", "init_app"]


def init_app(app: Flask) -> None:
    app.before_request(check_access)
    app.jinja_env.globals["may_visit"] = may_visit
