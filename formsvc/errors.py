"""Error pages in plain Swedish, with the right status; never a traceback to the public."""

from __future__ import annotations

from flask import Flask, render_template
from flask_babel import lazy_gettext
from werkzeug.exceptions import HTTPException

MESSAGES = {
    400: lazy_gettext("Begäran kunde inte tolkas. Gå tillbaka och försök igen."),
    403: lazy_gettext("Du har inte behörighet till den här sidan."),
    404: lazy_gettext("Sidan finns inte. Kontrollera adressen eller gå till startsidan."),
    405: lazy_gettext("Sidan kan inte användas på det sättet."),
    413: lazy_gettext("Det som skickades var för stort. Gå tillbaka och skicka en kortare text eller en mindre fil."),
    429: lazy_gettext("Det har kommit för många försök på kort tid. Vänta en stund och försök igen."),
    500: lazy_gettext("Något gick fel hos oss. Svaret har inte sparats. Försök igen om en stund."),
}


def http_error(error: HTTPException):
    code = error.code or 500
    message = MESSAGES.get(code, MESSAGES[400])
    return render_template("error.html", code=code, message=message), code


def server_error(_error: Exception):
    return render_template("error.html", code=500, message=MESSAGES[500]), 500


def init_app(app: Flask) -> None:
    app.register_error_handler(HTTPException, http_error)
    app.register_error_handler(500, server_error)
