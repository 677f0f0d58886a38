"""Public pages: the list of open forms, a form, its receipt, the accessibility statement and the page on
personal data."""

from __future__ import annotations

import secrets
from datetime import UTC, date, datetime

from flask import Blueprint, Flask, current_app, redirect, render_template, request, session, url_for
from flask_babel import get_locale, gettext
from flask_wtf.csrf import CSRFError, generate_csrf
from werkzeug.datastructures import MultiDict

from .. import embed
from ..answers import INVITATION, OPEN, new_submission_key, receipt_lines, store_answer
from ..catalog import catalog
from ..database import read_only
from ..definitions import FormDefinition, form_answers, link_prefill
from ..invitations.session import answer_formdata, current_answer, fix_organisation, record_answer, session_invitation
from ..models import Response
from ..organisations import find_by_name, register_entries
from ..security import submit_limit

bp = Blueprint("public", __name__)
# When the accessibility statement was last reviewed against the service (update it with each review).
ACCESSIBILITY_REVIEWED = date(2026, 12, 1)
RECEIPTS_KEPT = 20  # receipts this browser may look at again
BLANK_PAGES_KEPT = 64  # rendered blank forms kept per worker (forms x languages, with room for changes)
# Where a cached blank page takes each visitor's own values: random, so no form's own text can hold one.
CSRF_MARK, KEY_MARK, FORM_TOKEN_MARK = (f"mark-{secrets.token_hex(16)}" for _ in range(3))
# A form page carries this visitor's CSRF token and may show their answers: no shared cache may keep it for
# others (the browser asks again before reusing it). A receipt shows the answers: nothing keeps it.
CACHE_CONTROL = {"public.show_form": "private, no-cache", "public.submit_form": "private, no-cache",
                 "public.receipt": "no-store"}  # fmt: skip


def now() -> datetime:
    return datetime.now(UTC)


@bp.get("/")
def index():
    """The forms that are open and listed."""
    forms = [d for d in catalog() if d.listed and d.state(now()) == "open"]
    return render_template("public/index.html", forms=forms)


@bp.get("/f/<slug>")
@read_only
def show_form(slug: str):
    """The form, its option fields prefilled from query parameters named after them."""
    definition = catalog().get_or_404(slug)
    state = definition.state(now())
    invitation = session_invitation(slug)  # set by a personal link (/i/<token>)
    given = current_answer(invitation) if invitation else None
    if state != "open":
        given_lines = receipt_lines(definition, given.answers, _language()) if given else None
        return render_template(
            "public/closed.html", definition=definition, state=state, given=given, given_lines=given_lines
        )
    if invitation is None and not definition.open_link:
        return _needs_link(definition)
    if given and definition.live_only:
        return _voted_already(definition, given)
    if given and definition.one_answer_per_organisation:
        formdata, dropped = answer_formdata(definition, given), ()  # the current answer, to change it
    else:
        filled = link_prefill(definition, request.args.getlist)
        if invitation is None and not filled.values and not filled.dropped:
            return _blank_page(definition)
        formdata = MultiDict([(key, value) for key, values in filled.values.items() for value in values])
        dropped = filled.dropped
    formdata["submission_key"] = new_submission_key()
    if invitation:
        fix_organisation(definition, invitation, formdata)
    _preset_organisation_type(definition, formdata)
    form = catalog().form_class(slug)(formdata=formdata)
    return _render_form(definition, form, dropped=dropped, invitation=invitation, given=given)


@bp.post("/f/<slug>")
@submit_limit
def submit_form(slug: str):
    """Take an answer: store it, then redirect (303) to the receipt. Bad input gets the form back."""
    definition = catalog().get_or_404(slug)
    state = definition.state(now())
    invitation = session_invitation(slug)
    formdata = request.form.copy()
    if invitation:
        fix_organisation(definition, invitation, formdata)
    _preset_organisation_type(definition, formdata)
    form = catalog().form_class(slug)(formdata=formdata)
    if state != "open":
        lines = receipt_lines(definition, form_answers(definition, form), _language())
        return render_template("public/closed.html", definition=definition, state=state, lines=lines), 422
    if invitation is None and not definition.open_link:
        return _needs_link(definition)
    shown = {"invitation": invitation, "given": current_answer(invitation) if invitation else None}
    if shown["given"] and definition.live_only:
        if shown["given"].submission_key == form.submission_key.data:  # the same vote sent twice: its receipt
            return redirect(url_for(".receipt", slug=slug, reference=shown["given"].reference), 303)
        return _voted_already(definition, shown["given"]), 409
    if form.website.data:
        form.form_errors.append(gettext("Formuläret kunde inte skickas. Lämna det dolda fältet tomt."))
        return _render_form(definition, form, **shown), 400
    valid = form.validate()
    asked = definition.organisation_field
    organisation = invitation.organisation if invitation else asked and find_by_name(form[asked.key].data)
    if valid and organisation is None and definition.one_answer_per_organisation:
        # One answer per organisation needs to know which organisation: it must come from the register.
        form[asked.key].errors = [gettext("Välj er organisation i listan. Saknas den? Kontakta sekretariatet.")]
        valid = False
    if not valid:
        return _render_form(definition, form, **shown), 422
    response, _created = store_answer(
        definition,
        form_answers(definition, form),
        form.submission_key.data or new_submission_key(),
        organisation,
        on_stored=record_answer(invitation) if invitation else None,
        source=INVITATION if invitation else OPEN,
    )
    receipts = [r for r in session.get("receipts", []) if r != response.reference]
    session["receipts"] = [*receipts, response.reference][-RECEIPTS_KEPT:]
    receipt_url = url_for(".receipt", slug=slug, reference=response.reference, **embed.receipt_args(response.reference))
    return redirect(receipt_url, 303)


@bp.get("/f/<slug>/tack/<reference>")
@read_only
def receipt(slug: str, reference: str):
    """The receipt: what was sent, its reference and time. Only for the browser that sent it."""
    definition = catalog().get_or_404(slug)
    response = Response.query.filter_by(reference=reference, form_slug=slug).one_or_none()
    own = reference in session.get("receipts", []) or embed.receipt_allowed(reference)
    if response is None or not own:
        return render_template("public/receipt_missing.html", definition=definition), 404
    return render_template(
        "public/receipt.html",
        definition=definition,
        response=response,
        lines=receipt_lines(definition, response.answers, _language()),
    )


@bp.get("/tillganglighet")
def accessibility():
    """The accessibility statement, with the way to report a problem."""
    return render_template("public/accessibility.html", reviewed=ACCESSIBILITY_REVIEWED)


@bp.get("/personuppgifter")
def privacy():
    """How personal data is handled: who is responsible, each form's purpose and retention (from its
    definition), the visitor's rights and how to ask for erasure."""
    forms = sorted(catalog(), key=lambda d: d.title.casefold())
    return render_template("public/privacy.html", forms=forms)


def _language() -> str:
    """The page's language, for the form's own texts (a definition may have them in English)."""
    return get_locale().language


def _needs_link(definition: FormDefinition):
    """403: the form is answered through a personal link only; a live vote says where the rounds are."""
    template = "public/live_only.html" if definition.live_only else "invitations/needs_link.html"
    return render_template(template, definition=definition), 403


def _voted_already(definition: FormDefinition, given: Response):
    """A live vote's personal link votes once: the vote it gave, and that it stands."""
    return render_template("public/voted.html", definition=definition, given=given,
                           lines=receipt_lines(definition, given.answers))


def _preset_organisation_type(definition: FormDefinition, formdata: MultiDict) -> None:
    """An organisation picked from the register brings its type, unless the person chose one."""
    spec = definition.organisation_field
    if spec and spec.type_field and not formdata.get(spec.type_field):
        organisation = find_by_name(formdata.get(spec.key))
        if organisation:
            formdata[spec.type_field] = organisation.type


def _render_form(definition: FormDefinition, form, dropped=(), invitation=None, given=None):
    """The form page; with an invitation the organisation is fixed, and a current answer is said to exist."""
    return render_template(
        "public/form.html",
        definition=definition,
        form=form,
        organisations=_register(definition, invitation),
        invitation=invitation,
        dropped=dropped,
        given=given,
    )


def _register(definition: FormDefinition, invitation=None) -> tuple:
    """The organisations the form's list offers: none without an organisation field or with an invitation,
    which fixes the organisation."""
    needs_register = invitation is None and definition.organisation_field is not None
    return register_entries() if needs_register else ()


def _blank_page(definition: FormDefinition) -> str:
    """A blank form page (nothing filled in, no errors, no invitation). It is the same for every visitor
    but for its CSRF token and submission key, so it is rendered once per form version, language and
    organisation register, and served with this visitor's own two values put in: rendering the page is
    most of the time a form page takes."""
    key = (definition.slug, definition.version, str(get_locale()), _register(definition))
    cache = current_app.extensions["formsvc_blank_pages"]
    page = cache.get(key)
    if page is None:
        if len(cache) >= BLANK_PAGES_KEPT:  # old register or form versions: start again
            cache.clear()
        page = cache[key] = _page_with_markers(definition)
    submission_key = new_submission_key()
    page = page.replace(CSRF_MARK, generate_csrf()).replace(KEY_MARK, submission_key)
    if definition.embed_allow:
        page = page.replace(FORM_TOKEN_MARK, embed.form_token(definition.slug, submission_key))
    return page


def _page_with_markers(definition: FormDefinition) -> str:
    """The blank page, rendered with markers where each visitor's CSRF token and submission key go."""
    submission_key = new_submission_key()
    form = catalog().form_class(definition.slug)(formdata=MultiDict({"submission_key": submission_key}))
    html = _render_form(definition, form)
    if definition.embed_allow:
        html = html.replace(embed.form_token(definition.slug, submission_key), FORM_TOKEN_MARK)
    return html.replace(generate_csrf(), CSRF_MARK).replace(submission_key, KEY_MARK)


@bp.after_request
def cache_control(response):
    """Form pages and receipts say how they may be cached (CACHE_CONTROL)."""
    if request.endpoint in CACHE_CONTROL:
        response.headers.setdefault("Cache-Control", CACHE_CONTROL[request.endpoint])
    return response


def csrf_error(error: CSRFError):
    """A form sent with a missing or stale CSRF token comes back filled in, with a clear message."""
    if request.endpoint == "public.submit_form":
        definition = catalog().get(request.view_args["slug"])
        if definition:
            invitation = session_invitation(definition.slug)
            if invitation is None and not definition.open_link:
                return _needs_link(definition)
            formdata = request.form.copy()
            if invitation:
                fix_organisation(definition, invitation, formdata)
            form = catalog().form_class(definition.slug)(formdata=formdata)
            form.form_errors.append(
                gettext(
                    "Sidan hade varit öppen länge eller kom från en annan flik. "
                    "Kontrollera svaren och skicka igen."
                )
            )
            return _render_form(definition, form, invitation=invitation), 400
    message = gettext("Begäran kunde inte verifieras. Ladda om sidan och försök igen.")
    return render_template("error.html", code=400, message=message), 400


def init_app(app: Flask) -> None:
    app.extensions["formsvc_blank_pages"] = {}
    app.register_blueprint(bp)
    app.register_error_handler(CSRFError, csrf_error)
