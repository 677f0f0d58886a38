"""The staff blueprint: login, dashboard and the secretariat's own pages (features make their own blueprints
with formsvc.staff_guard)."""

from __future__ import annotations

from ..staff_guard import staff_blueprint

bp = staff_blueprint("staff", __name__)
