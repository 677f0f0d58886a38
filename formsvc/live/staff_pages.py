"""Staff side of the live vote: start a round, the projector view and its JSON, seat list, close, export."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Response, abort, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext, lazy_gettext
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy.exc import IntegrityError
from wtforms import BooleanField, IntegerField, RadioField, SelectField, StringField
from wtforms.fields import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from ..audit import audit
from ..catalog import catalog
from ..database import read_only
from ..definitions import field_type
from ..extensions import db
from ..staff_guard import staff_blueprint
from . import codes
from .export import round_workbook
from .models import LiveRound, LiveSeat, LiveVote
from .tally import tally
from .voting import close_round

bp = staff_blueprint("staff_live", __name__)

MAX_SEATS = 500


class StartRoundForm(FlaskForm):
    question = SelectField(lazy_gettext("Fråga"), [InputRequired(message=lazy_gettext("Välj en fråga."))])
    title = StringField(
        lazy_gettext("Rubrik på projektorn (valfri)"),
        [Optional(), Length(max=200, message=lazy_gettext("Rubriken får vara högst %(max)d tecken."))],
        description=lazy_gettext("T.ex. mötets namn och datum."),
    )
    mode = RadioField(
        lazy_gettext("Vem får rösta?"),
        [InputRequired(message=lazy_gettext("Välj hur deltagarna röstar."))],
        choices=[
            SelectChoice("device", lazy_gettext("Alla som har koden: en röst per telefon eller dator")),
            SelectChoice("seat", lazy_gettext("Bara den som har en platskod: en röst per utdelad kod")),
        ],
        default="device",
    )
    seats = IntegerField(
        lazy_gettext("Antal platskoder"),
        [Optional(), NumberRange(min=1, max=MAX_SEATS, message=lazy_gettext("Ange ett antal mellan 1 och 500."))],
        description=lazy_gettext("Behövs bara när röstningen sker med platskoder."),
    )
    results_hidden = BooleanField(
        lazy_gettext("Dölj resultatet tills omröstningen stängs"),
        description=lazy_gettext("Projektorn visar bara antalet röster medan omröstningen pågår."),
    )

    def validate(self, extra_validators=None):
        valid = super().validate(extra_validators)
        # Checked here, not as validate_seats: Optional() stops the field's own chain when it is empty.
        if self.mode.data == "seat" and not self.seats.errors and not self.seats.data:
            self.seats.errors = [*self.seats.errors, gettext("Ange hur många platskoder som ska skrivas ut.")]
            valid = False
        return valid


def ranking_questions() -> list[SelectChoice]:
    """Every ranking question in the catalog, as slug:field with the form's title and the question."""
    return [
        SelectChoice(f"{d.slug}:{f.key}", f"{d.title}: {f.label}")
        for d in sorted(catalog(), key=lambda d: d.title)
        for f in d.fields
        if field_type(f.type).live_question
    ]


def _round_or_404(round_id: int) -> LiveRound:
    live_round = db.session.get(LiveRound, round_id)
    if live_round is None:
        abort(404)
    return live_round


def _new_join_code() -> str:
    taken = set(db.session.scalars(sa.select(LiveRound.join_code)))
    while (code := codes.new_code(codes.JOIN_CODE_LENGTH)) in taken:
        continue
    return code


def _seat_codes(count: int) -> list[str]:
    made: set[str] = set()
    while len(made) < count:
        made.add(codes.new_code(codes.SEAT_CODE_LENGTH))
    return sorted(made)


@bp.route("/live/", methods=["GET", "POST"])
def live_rounds():
    """Every live round, newest first, and the form that starts a new one."""
    form = StartRoundForm()
    form.question.choices = ranking_questions()
    if form.validate_on_submit():
        slug, key = form.question.data.split(":", 1)
        spec = catalog().get(slug).field(key)
        live_round = LiveRound(
            form_slug=slug,
            field=key,
            title=(form.title.data or "").strip(),
            join_code=_new_join_code(),
            mode=form.mode.data,
            question=spec.label,
            choices=[[c.key, c.label] for c in spec.choices],
            rank=spec.rank,
            opened_by=current_user.email,
            results_hidden=form.results_hidden.data,
        )
        if form.mode.data == "seat":
            live_round.seats = [LiveSeat(number=n, code=c) for n, c in enumerate(_seat_codes(form.seats.data), 1)]
        db.session.add(live_round)
        db.session.flush()
        audit("live_round_started", target=slug, round=live_round.id, mode=live_round.mode)
        try:
            db.session.commit()
        except IntegrityError:  # another round took the same join code in the same instant
            db.session.rollback()
            abort(409)
        return redirect(url_for(".live_projector", round_id=live_round.id), 303)
    voters = dict(
        db.session.execute(sa.select(LiveVote.round_id, sa.func.count(LiveVote.id)).group_by(LiveVote.round_id)).all()
    )
    rounds = db.session.scalars(sa.select(LiveRound).order_by(LiveRound.opened_at.desc(), LiveRound.id.desc()))
    status = 422 if form.errors else 200
    return render_template("staff/live_rounds.html", form=form, rounds=list(rounds), voters=voters), status


def _projector_context(live_round: LiveRound) -> dict:
    """What both the staff page and the wall show: the join code and QR while open, and the tally
    (None while the round hides its results)."""
    url = codes.join_url(live_round.join_code)
    qr = codes.qr_svg(url, gettext("QR-kod till omröstningen: %(url)s", url=url)) if live_round.is_open else None
    result = tally(live_round)
    return {
        "live_round": live_round,
        "result": result if live_round.results_shown else None,
        "voters": result.voters,
        "join_url": url,
        "join_page": codes.shown_url(codes.join_page_url()),
        "qr": qr,
        "spaced": codes.spaced,
    }


@bp.get("/live/<int:round_id>")
def live_projector(round_id: int):
    """The round's staff page: join code and QR while open, the number of votes and both rankings, live."""
    return render_template("staff/live_projector.html", **_projector_context(_round_or_404(round_id)))


@bp.get("/live/<int:round_id>/projektor")
def live_wall(round_id: int):
    """The projector on the wall: full screen, no staff menu, large type, bars that grow as votes come in."""
    return render_template("staff/live_wall.html", **_projector_context(_round_or_404(round_id)))


@bp.get("/live/<int:round_id>/tally.json")
@read_only
def live_tally(round_id: int):
    """What the projector shows, as JSON, for live.js to poll: while results are hidden, the count only."""
    live_round = _round_or_404(round_id)
    result = tally(live_round)
    state = "open" if live_round.is_open else "closed"
    if not live_round.results_shown:
        return jsonify(state=state, hidden=True, voters=result.voters)
    return jsonify(state=state, hidden=False, **result.as_json())


@bp.post("/live/<int:round_id>/resultat")
def live_results_shown(round_id: int):
    """Show or hide the results while the round is open (hidden=1 hides them)."""
    live_round = _round_or_404(round_id)
    live_round.results_hidden = request.form.get("hidden") == "1"
    audit("live_round_results", target=live_round.form_slug, round=live_round.id, hidden=live_round.results_hidden)
    db.session.commit()
    return redirect(url_for(".live_projector", round_id=round_id), 303)


@bp.get("/live/<int:round_id>/platskoder")
def live_seats(round_id: int):
    """Seat codes to print and cut out: one slip per seat with the address, join code, seat code and a QR."""
    live_round = _round_or_404(round_id)
    if live_round.mode != "seat":
        abort(404)
    slips = []
    for seat in live_round.seats:
        url = codes.join_url(live_round.join_code) + f"?plats={seat.code}"
        slips.append((seat, codes.qr_svg(url, gettext("QR-kod för plats %(n)d", n=seat.number))))
    return render_template(
        "staff/live_seats.html",
        live_round=live_round,
        slips=slips,
        join_page=codes.shown_url(codes.join_page_url()),
        spaced=codes.spaced,
    )


@bp.post("/live/<int:round_id>/stang")
def live_close(round_id: int):
    """Close the round: no more votes; the final ranking stays."""
    live_round = _round_or_404(round_id)
    if live_round.is_open:
        close_round(live_round, current_user.email)
        audit("live_round_closed", target=live_round.form_slug, round=live_round.id)
        db.session.commit()
    return redirect(url_for(".live_projector", round_id=round_id), 303)


@bp.get("/live/<int:round_id>/resultat.xlsx")
def live_export(round_id: int):
    """The ranking, points, mentions and number of voters as an XLSX file for the minutes."""
    live_round = _round_or_404(round_id)
    content = round_workbook(live_round, tally(live_round))
    audit("export", target=live_round.form_slug, round=live_round.id, format="xlsx")
    db.session.commit()
    filename = f"omrostning-{live_round.form_slug}-{live_round.opened_at:%Y-%m-%d}-{live_round.join_code}.xlsx"
    return Response(
        content,
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
