"""formsvc: forms and surveys for the secretariat for social sustainability."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from . import (
    access,
    access_log,
    api,
    catalog,
    config,
    database,
    editor,
    errors,
    export,
    fields,
    i18n,
    invitations,
    live,
    mail,
    newsletter,
    organisations,
    public,
    records,
    retention,
    security,
    sharing,
    staff,
    webhooks,
)


def create_app(test_config: dict | None = None) -> Flask:
    """Build the app: settings first, then each feature binds itself."""
    app = Flask(
        __name__,
        instance_relative_config=True,
        template_folder=str(config.resource_dir("templates")),
    )
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    config.load_config(app, test_config)
    config.check_config(app)

    access_log.init_app(app)
    database.init_app(app)
    security.init_app(app)
    i18n.init_app(app)
    fields.init_app(app)
    mail.init_app(app)
    catalog.init_app(app)
    organisations.init_app(app)
    errors.init_app(app)
    public.init_app(app)
    invitations.init_app(app)
    newsletter.init_app(app)
    records.init_app(app)
    staff.init_app(app)
    access.init_app(app)
    retention.init_app(app)
    sharing.init_app(app)
    live.init_app(app)
    webhooks.init_app(app)
    api.init_app(app)
    editor.init_app(app)
    export.init_app(app)
    return app
