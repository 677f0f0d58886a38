"""The participant's side: enter the join code, vote on a phone (no JavaScript needed), see the receipt."""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from flask import Blueprint, current_app, redirect, render_template, request, session, url_for
from flask_babel import gettext

from ..catalog import catalog
from ..database import read_only
from ..definitions import field_type
from ..extensions import db, limiter
from ..security import vote_limit
from . import codes
from .models import LiveRound, LiveSeat
from .voting import RoundClosed, cast_vote, current_ranking, device_voter_key, seat_voter_key

bp = Blueprint("live", __name__, url_prefix="/live")
VOTES_REMEMBERED = 10  # rounds this browser remembers its voter key for (to show the receipt)
# The query parameters the vote page reads and passes on when it redirects to the code as stored: the
# seat code from a slip's QR code, and the language. Anything else is dropped: url_for would take
# `code`, `_method`, `_external` or `_scheme` from the address as its own arguments.
KEPT_ARGS = ("plats", "lang")


def _failed(response) -> bool:
    # Only failures count against the limit: a room full of phones may share one address.
    return response.status_code in (404, 422)


def _find_round(code: str) -> LiveRound | None:
    code = codes.normalise(code)
    if not codes.is_well_formed(code, codes.JOIN_CODE_LENGTH):
        return None
    return db.session.scalar(sa.select(LiveRound).filter_by(join_code=code))


def _unknown_code(typed: str):
    return render_template("live/join.html", typed=typed[:20], unknown=True), 404


def _closed(live_round: LiveRound):
    return render_template("live/closed.html", live_round=live_round), 410


def _takes_votes(live_round: LiveRound) -> bool:
    """Open, and its form still has the question (a definition may change between meetings)."""
    definition = catalog().get(live_round.form_slug)
    question = definition and next((f for f in definition.fields if f.key == live_round.field), None)
    return live_round.is_open and question is not None and field_type(question.type).live_question


@bp.get("/")
def join():
    """Type the join code shown on the projector; a code sent here goes on to its round."""
    typed = request.args.get("kod")
    if typed is None:
        return render_template("live/join.html", typed="")
    if not typed.strip():
        return render_template("live/join.html", typed="", empty=True), 422
    return redirect(url_for(".vote", code=codes.normalise(typed)), 303)


def _device_key() -> str:
    if "live_device" not in session:
        session["live_device"] = secrets.token_urlsafe(24)
    return device_voter_key(session["live_device"])


def _remembered_key(live_round: LiveRound) -> str | None:
    """The voter key this browser voted with in the round, if any."""
    if live_round.mode == "device":
        return _device_key()
    return session.get("live_votes", {}).get(str(live_round.id))


def _remember(live_round: LiveRound, voter_key: str) -> None:
    remembered = {k: v for k, v in session.get("live_votes", {}).items() if k != str(live_round.id)}
    remembered[str(live_round.id)] = voter_key
    session["live_votes"] = dict(list(remembered.items())[-VOTES_REMEMBERED:])


def _seat_of(live_round: LiveRound, voter_key: str | None) -> LiveSeat | None:
    if not voter_key or not voter_key.startswith("seat:"):
        return None
    seat = db.session.get(LiveSeat, int(voter_key.removeprefix("seat:")))
    return seat if seat and seat.round_id == live_round.id else None


@bp.get("/<code>")
@limiter.limit(lambda: current_app.config["FORMSVC_LIVE_FAILED_LIMIT"], deduct_when=_failed)
@read_only
def vote(code: str):
    """The vote page: the round's ranking question, with this browser's current vote filled in."""
    live_round = _find_round(code)
    if live_round is None:
        return _unknown_code(code)
    if codes.normalise(code) != code:
        kept = {key: request.args[key] for key in KEPT_ARGS if key in request.args}
        return redirect(url_for(".vote", code=live_round.join_code, **kept), 303)
    if not _takes_votes(live_round):
        return _closed(live_round)
    voter_key = _remembered_key(live_round)
    current = current_ranking(live_round.id, voter_key) if voter_key else []
    seat = _seat_of(live_round, voter_key)
    seat_code = seat.code if seat else codes.normalise(request.args.get("plats"))
    form = catalog().form_class(live_round.form_slug)(formdata=None, data={live_round.field: current})
    return _render_vote(live_round, form, seat_code=seat_code, voted=bool(current))


@bp.post("/<code>")
@limiter.limit(lambda: current_app.config["FORMSVC_LIVE_FAILED_LIMIT"], deduct_when=_failed)
@vote_limit
def cast(code: str):
    """Take a vote: store it (replacing this voter's earlier one), then redirect (303) to the receipt."""
    live_round = _find_round(code)
    if live_round is None:
        return _unknown_code(code)
    if not _takes_votes(live_round):
        return _closed(live_round)
    definition = catalog().get(live_round.form_slug)
    form = catalog().form_class(live_round.form_slug)(formdata=request.form)
    if form.website.data:
        form.form_errors.append(gettext("Rösten kunde inte skickas. Lämna det dolda fältet tomt."))
        return _render_vote(live_round, form), 400
    field = form[live_round.field]
    # Only the ranking is asked here; the form's other questions belong to its ordinary page.
    valid = field.validate(form)
    seat_code = codes.normalise(request.form.get("plats"))
    seat_error = None
    if live_round.mode == "seat":
        seat = db.session.scalar(sa.select(LiveSeat).filter_by(round_id=live_round.id, code=seat_code))
        if seat is None:
            seat_error = (
                gettext("Skriv platskoden från din lapp.")
                if not seat_code
                else gettext("Platskoden finns inte i den här omröstningen. Kontrollera koden på din lapp.")
            )
        voter_key = seat_voter_key(seat) if seat else None
    else:
        voter_key = _device_key()
    if not valid or seat_error:
        return _render_vote(live_round, form, seat_code=seat_code, seat_error=seat_error, definition=definition), 422
    try:
        cast_vote(live_round.id, voter_key, field.data)
    except RoundClosed:
        return _closed(live_round)
    db.session.commit()
    _remember(live_round, voter_key)
    return redirect(url_for(".receipt", code=live_round.join_code), 303)


@bp.get("/<code>/tack")
def receipt(code: str):
    """What this browser's vote in the round is now; it can be changed until the round closes."""
    live_round = _find_round(code)
    if live_round is None:
        return _unknown_code(code)
    voter_key = session.get("live_votes", {}).get(str(live_round.id))
    ranking = current_ranking(live_round.id, voter_key) if voter_key else []
    if not ranking:
        return redirect(url_for(".vote", code=live_round.join_code), 303)
    return render_template(
        "live/receipt.html", live_round=live_round, ranking=[live_round.choice_label(k) for k in ranking]
    )


def _render_vote(live_round, form, seat_code="", seat_error=None, voted=False, definition=None):
    definition = definition or catalog().get(live_round.form_slug)
    return render_template(
        "live/vote.html",
        live_round=live_round,
        definition=definition,
        spec=definition.field(live_round.field),
        form=form,
        seat_code=seat_code,
        seat_error=seat_error,
        voted=voted,
    )
