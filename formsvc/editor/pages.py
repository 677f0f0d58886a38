"""Staff pages of the form editor, under /staff/forms-admin (no JavaScript needed).

Forms list; new form (blank, copy, uploaded YAML); the editor page (form settings, one small form per
question, add a question of any registered type, move, remove); preview; publish; history with diffs and
"publish this version again"; YAML download. Every change goes into the draft, checked by the loader: a
refusal is shown next to the setting it is about, with status 422.
"""

from __future__ import annotations

import re
from datetime import datetime

import sqlalchemy as sa
from flask import Response as FlaskResponse
from flask import abort, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from ..catalog import AnswerForm, catalog
from ..definitions import FIELD_TYPES, DefinitionError, build_form_class, field_type, form_answers
from ..definitions.loader import SLUG
from ..extensions import db
from ..models import Response, utcnow
from ..security import CONTENT_SECURITY_POLICY
from ..staff_guard import staff_blueprint
from . import drafts, messages, publishing, store
from .models import StoredForm

bp = staff_blueprint("forms_admin", __name__, "/forms-admin")

# What each setting is called on the editor page (translated in the template through _()).
SETTING_LABELS = {
    "title": "Rubrik", "intro": "Inledning", "opens": "Öppnar (ÅÅÅÅ-MM-DD eller ÅÅÅÅ-MM-DD TT:MM)",
    "closes": "Stänger (ÅÅÅÅ-MM-DD eller ÅÅÅÅ-MM-DD TT:MM)", "listed": "Visas på startsidan",
    "open_link": "Alla kan svara via formulärets länk (annars bara via personliga länkar)",
    "one_answer_per_organisation": "Ett svar per organisation", "retention_days": "Gallras efter antal dagar",
    "thanks": "Tacktext", "submit_label": "Knappens text", "purpose": "Ändamål (visas på sidan om personuppgifter)",
    "title_en": "Rubrik på engelska", "intro_en": "Inledning på engelska", "thanks_en": "Tacktext på engelska",
    "label": "Frågans text", "help": "Hjälptext", "required": "Obligatorisk", "label_en": "Frågans text på engelska",
    "help_en": "Hjälptext på engelska",
    "choices": "Alternativ, ett per rad som ”nyckel: text” (nyckeln får inte ändras när formuläret har svar)",
    # settings the field types take (registry.FieldType.settings); a setting not named here shows its own name
    "max_length": "Högst antal tecken", "min": "Minst antal val", "max": "Högst antal val",
    "rank": "Antal alternativ att rangordna", "min_value": "Minsta värde", "max_value": "Största värde",
    "min_label": "Text vid lägsta värdet", "max_label": "Text vid högsta värdet",
    "min_label_en": "Text vid lägsta värdet på engelska", "max_label_en": "Text vid högsta värdet på engelska",
    "person": "Andra frågor om samma person (nycklar, till exempel [namn, telefon])",
    "type_field": "Frågan som får organisationens typ (nyckel)",
}
STATE_LABELS = {"draft": "Utkast", "open": "Öppen", "not_open": "Inte öppnad än", "closed": "Stängd",
                "archived": "Arkiverad"}


def _actor() -> str:
    return current_user.email


def _state(row: StoredForm | None, slug: str) -> str:
    if row is not None and row.archived:
        return "archived"
    definition = catalog().get(slug)
    if definition is None:
        return "draft"
    return definition.state(utcnow())


@bp.get("/")
def forms():
    """Every form: state, answers, last change and who made it."""
    return _list_page()


def _list_page(errors: dict | None = None, status: int = 200):
    rows = {row.slug: row for row in db.session.scalars(sa.select(StoredForm))}
    counts = dict(db.session.execute(
        sa.select(Response.form_slug, sa.func.count()).group_by(Response.form_slug)).all())
    slugs = sorted(set(rows) | {d.slug for d in catalog()})
    entries = []
    for slug in slugs:
        row, definition = rows.get(slug), catalog().get(slug)
        title = definition.title if definition else drafts.mapping(row.draft or "").get("title", slug)
        entries.append({"slug": slug, "title": title, "state": _state(row, slug), "answers": counts.get(slug, 0),
                        "changed_at": row.updated_at if row else None, "changed_by": row.updated_by if row else None,
                        "has_draft": bool(row and row.draft)})
    return render_template("staff/forms_admin/list.html", entries=entries, states=STATE_LABELS,
                           types=drafts.field_types(), errors=errors or {}, posted=request.form), status


def _new_slug_error(slug: str) -> str | None:
    if not SLUG.match(slug or ""):
        return gettext("Skriv en adress med små bokstäver a–z, siffror och bindestreck, till exempel ”enkat-2027”.")
    if publishing.stored(slug) is not None or catalog().get(slug) is not None:
        return gettext("Det finns redan ett formulär med adressen ”%(slug)s”.", slug=slug)
    return None


@bp.post("/new")
def create():
    """A new form as a draft: blank, a copy of another form, or an uploaded YAML file."""
    slug = (request.form.get("slug") or "").strip()
    errors = {}
    if problem := _new_slug_error(slug):
        errors["slug"] = problem
    how = request.form.get("how", "blank")
    text = None
    if how == "copy":
        source = request.form.get("source", "")
        text = drafts.text_of(source, catalog().get(source))
        if text is None:
            errors["source"] = gettext("Välj formuläret som ska kopieras.")
    elif how == "upload":
        upload = request.files.get("file")
        text = upload.read().decode("utf-8", errors="replace") if upload and upload.filename else None
        if not text:
            errors["file"] = gettext("Välj en YAML-fil.")
    else:
        title = (request.form.get("title") or "").strip()
        if not title:
            errors["title"] = gettext("Skriv formulärets rubrik.")
        text = drafts.blank(title)
    if not errors:
        _, problems = publishing.save_draft(slug, text, _actor())
        if problems:
            errors["file" if how == "upload" else "source"] = _describe(problems[0])
    if errors:
        return _list_page(errors, 422)
    db.session.commit()
    return redirect(url_for("forms_admin.editor", slug=slug), 303)


def _describe(problem) -> str:
    where = f" ({gettext('rad %(line)s', line=problem.line)})" if getattr(problem, "line", None) else ""
    return problem.message("sv" if str(_locale()) == "sv" else "en") + where


def _locale():
    from flask_babel import get_locale

    return get_locale()


def _text_or_404(slug: str) -> str:
    text = drafts.text_of(slug, catalog().get(slug))
    if text is None:
        abort(404)
    return text


def _draft_with_field_or_404(slug: str, key: str) -> tuple[dict, int]:
    """The draft as a mapping, and the place of question `key` in its fields (404 when it has none)."""
    raw = drafts.mapping(_text_or_404(slug))
    index = drafts.find_field(raw, key)
    if index is None:
        abort(404)
    return raw, index


# Refusals the loader places at `type` or at the field, and the editor next to the setting that mends them.
PLACES = {"FS036": "choices", "FS052": "rank"}


def _problems_by_place(problems, drafts_seen: list[dict], new=None) -> dict[tuple[str, str], str]:
    """Refusals by (field key or "", setting), so each is shown next to its setting, in the editor's words
    where it has them (messages.py); a mail's or a rule's by its place in the Utskick or Regler section
    (`_list_place`)."""
    placed = {}
    for problem in problems:
        at = PLACES.get(problem.code, problem.at or "")
        place = _list_place(problem.field_key or "", at, new)
        placed.setdefault(place, messages.said(problem, drafts_seen) or _describe(problem))
    return placed


def _editor_page(slug: str, text: str, problems=(), status: int = 200, new=None, before: dict | None = None):
    """The editor page for `text`; `new`: a mail or rule being added that was refused, (list, index, its
    settings), shown in the add form; `before`: the draft before a refused change (to name what it removed)."""
    raw = drafts.mapping(text)
    row = publishing.stored(slug)
    errors = _problems_by_place(problems, [before or {}, raw], new)
    question_labels = {spec.get("key"): spec.get("label") or spec.get("key")
                       for spec in raw.get("fields") or [] if isinstance(spec, dict)}
    return render_template(
        "staff/forms_admin/editor.html", slug=slug, raw=raw, row=row, errors=errors,
        form_settings=drafts.FORM_SETTINGS, common=drafts.COMMON_FIELD_SETTINGS, labels=SETTING_LABELS,
        type_settings=drafts.type_settings, types=drafts.field_types(), shown=drafts.shown_value,
        setting_kind=drafts.setting_kind, flag_defaults=drafts.FLAG_DEFAULTS, conditions=drafts.condition_sources,
        type_label=drafts.type_label, question_labels=question_labels,
        answered=publishing.has_answers(slug), state=STATE_LABELS[_state(row, slug)],
        summary=_summary(errors, question_labels), **_lists_context(raw, new),
    ), status


@bp.get("/<slug>")
def editor(slug: str):
    return _editor_page(slug, _text_or_404(slug))


def _refused(slug: str, raw: dict, shown: str | None = None, new=None):
    """Keep the changed mapping as the draft; a refusal is the page again with each message in place
    (and nothing kept), else None: the view commits and goes back to the editor. `shown`: the text the
    page shows instead of the refused one (the draft before a mail or rule was added, `new`)."""
    _, problems = publishing.save_draft(slug, drafts.dump(raw), _actor())
    if not problems:
        return None
    db.session.rollback()
    before = drafts.mapping(_text_or_404(slug))
    return _editor_page(slug, shown or drafts.dump(raw), problems, status=422, new=new, before=before)


def _kept(slug: str, raw: dict, anchor: str = "", **refusal):
    """Keep the changed draft and go back to the editor at `anchor`; or, refused, the page with the messages
    (`refusal`: what `_refused` takes)."""
    if refused := _refused(slug, raw, **refusal):
        return refused
    db.session.commit()
    return _saved(slug, anchor)


def _saved(slug: str, anchor: str = ""):
    flash(gettext("Utkastet är sparat. Det syns för besökare först när du publicerar det."))
    return redirect(url_for("forms_admin.editor", slug=slug) + anchor, 303)


@bp.post("/<slug>/settings")
def save_settings(slug: str):
    raw = drafts.mapping(_text_or_404(slug))
    for name, kind in drafts.FORM_SETTINGS:
        value = drafts.parsed_value(kind, request.form.get(name))
        if value is None or (kind == "flag" and value == drafts.FLAG_DEFAULTS.get(name)):
            raw.pop(name, None)
        else:
            raw[name] = value
    return _kept(slug, raw)


@bp.post("/<slug>/fields/<key>")
def save_field(slug: str, key: str):
    raw, index = _draft_with_field_or_404(slug, key)
    spec = raw["fields"][index]
    names = [(n, k) for n, k in drafts.COMMON_FIELD_SETTINGS]
    names += [(n, drafts.setting_kind(n)) for n in drafts.type_settings(spec.get("type", ""))]
    for name, kind in names:
        value = drafts.parsed_value(kind, request.form.get(name))
        if value is None or (name == "required" and value is False):
            spec.pop(name, None)
        else:
            spec[name] = value
    spec.pop("show_if", None)
    if condition := drafts.posted_condition(request.form):
        spec["show_if"] = condition
    if repeated := messages.repeated_option(key, request.form.get("choices")):
        spec["choices"] = request.form["choices"]  # shown as written, so the repeated line can be found
        return _editor_page(slug, drafts.dump(raw), [repeated], status=422)
    return _kept(slug, raw, f"#fraga-{key}")


@bp.post("/<slug>/fields/<key>/move")
def move_field(slug: str, key: str):
    raw, index = _draft_with_field_or_404(slug, key)
    other = index - 1 if request.form.get("direction") == "up" else index + 1
    fields = raw["fields"]
    if 0 <= other < len(fields):
        fields[index], fields[other] = fields[other], fields[index]
    return _kept(slug, raw, f"#fraga-{key}")


@bp.post("/<slug>/fields/<key>/remove")
def remove_field(slug: str, key: str):
    raw, index = _draft_with_field_or_404(slug, key)
    del raw["fields"][index]
    return _kept(slug, raw)


@bp.post("/<slug>/fields")
def add_field(slug: str):
    raw = drafts.mapping(_text_or_404(slug))
    if request.form.get("type") not in drafts.field_types():
        abort(400)
    key = drafts.new_field(raw, request.form["type"])
    return _kept(slug, raw, f"#fraga-{key}")


def _draft_definition(slug: str):
    try:
        return store.read(_text_or_404(slug), slug)
    except DefinitionError:
        abort(404)


@bp.get("/<slug>/preview")
def preview(slug: str):
    """The public page as a visitor sees it, drawn from the draft; its form posts to the preview check."""
    definition = _draft_definition(slug)
    form = build_form_class(definition, base=AnswerForm)(formdata=MultiDict())
    return _preview_page(definition, form)


@bp.get("/<slug>/preview/mobil")
def preview_phone(slug: str):
    """The preview in a frame as wide as a phone's screen (390 CSS pixels), works without JavaScript."""
    definition = _draft_definition(slug)
    return render_template("staff/forms_admin/preview_phone.html", definition=definition,
                           frame=url_for("forms_admin.preview", slug=slug, ram="mobil"))


def _preview_page(definition, form, result=None, status: int = 200):
    """The preview; in the phone frame (?ram=mobil) its links leave the frame, and only this site may frame it."""
    framed = request.args.get("ram") == "mobil"
    page = make_response(render_template(
        "public/form.html", definition=definition, form=form, organisations=(), invitation=None, dropped=(),
        given=None, result=result, preview_framed=framed,
        preview_action=url_for("forms_admin.preview_check", slug=definition.slug, ram="mobil" if framed else None),
    ), status)
    page.headers["Content-Security-Policy"] = f"{CONTENT_SECURITY_POLICY}; frame-ancestors 'self'"
    page.headers["X-Frame-Options"] = "SAMEORIGIN"
    return page


@bp.post("/<slug>/preview")
def preview_check(slug: str):
    """Check a filled-in preview as the real form would, and show the result; nothing is stored."""
    definition = _draft_definition(slug)
    form = build_form_class(definition, base=AnswerForm)(formdata=request.form)
    if not form.validate():
        return _preview_page(definition, form, status=422)
    answers = form_answers(definition, form)
    lines = [(spec.label, answers.get(spec.key)) for spec in definition.fields]
    return _preview_page(definition, form, result=lines)


@bp.post("/<slug>/publish")
def publish(slug: str):
    row = publishing.stored(slug)
    text = (row.draft if row is not None else None) or drafts.text_of(slug, catalog().get(slug))
    if text is None:
        abort(404)
    definition, problems = publishing.publish(slug, text, _actor())
    if problems:
        db.session.rollback()
        return _editor_page(slug, text, problems, status=422)
    if row is not None:
        row.draft = None
    db.session.commit()
    flash(gettext("Formuläret är publicerat. Besökare ser den nya versionen inom en sekund."))
    return redirect(url_for("forms_admin.history", slug=slug), 303)


@bp.post("/<slug>/archive")
def archive(slug: str):
    """Archive the form (visitors no longer find it; answers, results and exports stay) or bring it back."""
    archived = request.form.get("archived") == "y"
    if publishing.stored(slug) is None:
        text = drafts.text_of(slug, catalog().get(slug))  # a form still served from its file: keep it first
        if text is None:
            abort(404)
        publishing.save_draft(slug, text, _actor())
    store.set_archived(slug, archived, _actor())
    db.session.commit()
    flash(gettext("Formuläret är arkiverat. Besökare hittar det inte längre.") if archived
          else gettext("Formuläret är inte längre arkiverat."))
    return redirect(url_for("forms_admin.editor", slug=slug), 303)


@bp.get("/<slug>/history")
def history(slug: str):
    """Each publish with who and when, and what changed from the version before it."""
    entries = publishing.history(slug)
    if not entries and catalog().get(slug) is None:
        abort(404)
    shown = []
    for index, entry in enumerate(entries):
        this = publishing.version(slug, entry.version)
        before = publishing.version(slug, entries[index + 1].version) if index + 1 < len(entries) else None
        changes = publishing.diff(before, this) if before and this else []
        shown.append((entry, changes, index == 0))
    return render_template("staff/forms_admin/history.html", slug=slug, entries=shown,
                           definition=catalog().get(slug))


@bp.post("/<slug>/history/<version>/publish")
def republish(slug: str, version: str):
    """Go back to an earlier version by publishing it again."""
    if not re.fullmatch(r"[0-9a-f]{12}", version):
        abort(404)
    definition, problems = publishing.rollback(slug, version, _actor())
    if definition is None and not problems:
        abort(404)
    if problems:
        db.session.rollback()
        flash(_describe(problems[0]))
        return redirect(url_for("forms_admin.history", slug=slug), 303)
    db.session.commit()
    flash(gettext("Den tidigare versionen är publicerad igen."))
    return redirect(url_for("forms_admin.history", slug=slug), 303)


@bp.get("/<slug>/<kind>.yaml")
def download(slug: str, kind: str):
    """The published definition (or the draft) as a YAML file."""
    row = publishing.stored(slug)
    if kind == "draft":
        text = row.draft if row is not None else None
    elif kind == "published":
        text = row.published if row is not None else drafts.text_of(slug, catalog().get(slug))
    else:
        abort(404)
    if text is None:
        abort(404)
    stamp = datetime.now().strftime("%Y%m%d")
    return FlaskResponse(text, mimetype="application/yaml", headers={
        "Content-Disposition": f'attachment; filename="{slug}-{kind}-{stamp}.yaml"'})


# --- Utskick (the form's mails) and Regler (rules between two questions) ------------------------------------

# The templates a form's mails are written from (templates/mail/<name>.txt), as the editor describes them.
MAIL_TEMPLATES = {
    "kvitto": "Kvitto till den som svarar, med en kopia av svaret",
    "notis": "Notis till sekretariatet om ett nytt svar, med svaret",
    "valkomstpaket": "Välkomstpaket med klistermärket (skrivet för formuläret ”anslutning”)",
    "nominerad": "Brev till den som är nominerad (skrivet för formuläret ”nominering”)",
}
RULE_KINDS = {"different": "Svaren måste vara olika", "same": "Svaren måste vara lika"}
# A list in the definition -> how the editor names an item's place (its ids and its errors): utskick-1, ...
LIST_PLACES = {"mails": "utskick", "rules": "regel"}
LIST_ITEM = re.compile(r"(utskick|regel)-(ny|\d+)")


def _list_place(key: str, at: str, new=None) -> tuple[str, str]:
    """A mail's or rule's problem (`at` mails.0.subject) as (its place, setting): ("utskick-1", "subject"), or
    "utskick-ny" for the one being added; a rule's two questions are the setting "fields"."""
    parts = at.split(".", 2)
    if len(parts) < 2 or parts[0] not in LIST_PLACES or not parts[1].isdigit():
        return key, at
    index, name = int(parts[1]), parts[2] if len(parts) > 2 else ""
    number = "ny" if new is not None and new[:2] == (parts[0], index) else str(index + 1)
    return f"{LIST_PLACES[parts[0]]}-{number}", "fields" if name in RULE_KINDS else name


def _summary(errors: dict, question_labels: dict) -> list[tuple[str, str]]:
    """The error summary's lines: (the anchor of the setting, what is wrong and where)."""
    lines = []
    for (key, name), message in errors.items():
        if item := LIST_ITEM.fullmatch(key):  # a field's key has no "-"
            lines.append((f"{key}-{name}" if name else key, f"{_place_name(*item.groups())}: {message}"))
        else:
            anchor = (key or "form") + "-" + name if name else "fraga-" + key
            question = gettext("Frågan ”%(label)s”", label=question_labels.get(key, key))
            lines.append((anchor, (question + ": " if key else "") + message))
    return lines


def _place_name(place: str, number: str) -> str:
    if place == "utskick":
        return gettext("Nytt utskick") if number == "ny" else gettext("Utskick %(number)s", number=number)
    return gettext("Ny regel") if number == "ny" else gettext("Regel %(number)s", number=number)


def _lists_context(raw: dict, new) -> dict:
    """What the Utskick and Regler sections show: their selects' options (value, text), and the add forms'
    values (those of a refused addition, `new`)."""
    questions = [(f["key"], f"{f.get('label') or f['key']} ({f['key']})") for f in raw.get("fields") or []
                 if isinstance(f, dict) and isinstance(f.get("key"), str)]
    types = {f.get("key"): f.get("type") for f in raw.get("fields") or [] if isinstance(f, dict)}
    addresses = [(key, text) for key, text in questions
                 if types[key] in FIELD_TYPES and field_type(types[key]).is_address]
    new_mail = {"template": "kvitto", "to": addresses[0][0] if addresses else "secretariat"}
    new_rule = {"different": [], "message": ""}
    if new is not None:
        new_mail, new_rule = (new[2], new_rule) if new[0] == "mails" else (new_mail, new[2])
    return {
        "mail_templates": {name: gettext(text) for name, text in MAIL_TEMPLATES.items()},
        "recipients": [("secretariat", gettext("Sekretariatet")), *addresses], "questions": questions,
        "rule_kinds": [(kind, gettext(text)) for kind, text in RULE_KINDS.items()], "rule_kind": _rule_kind,
        "new_mail": new_mail, "new_rule": new_rule,
    }


def _rule_kind(rule: dict) -> str:
    """The rule's kind (the first known key it has; an addition of an unknown kind shows as "different")."""
    return next((kind for kind in RULE_KINDS if kind in rule), "different")


def _draft_list(slug: str, name: str) -> tuple[str, dict, list]:
    """The draft's text, mapping, and its list `name` (mails, rules), made when it has none."""
    text = _text_or_404(slug)
    raw = drafts.mapping(text)
    items = raw.setdefault(name, [])
    if not isinstance(items, list):
        abort(404)
    return text, raw, items


def _draft_item_or_404(slug: str, name: str, number: int) -> tuple[dict, list]:
    _, raw, items = _draft_list(slug, name)
    if not 1 <= number <= len(items) or not isinstance(items[number - 1], dict):
        abort(404)
    return raw, items


def _posted_mail(mail: dict) -> dict:
    """The posted settings into a mail's mapping (its images stay: the page does not show them)."""
    mail["template"] = request.form.get("template", "")
    mail["to"] = request.form.get("to", "")
    for name in ("subject", "message"):
        value = drafts.parsed_value("long", request.form.get(name))  # line breaks as \n: refused in a subject
        if value is None:
            mail.pop(name, None)
        else:
            mail[name] = value
    return mail


def _posted_rule() -> dict:
    """A rule as posted; the loader checks it (an unknown kind, a question twice, an empty message)."""
    pair = [request.form.get("first", ""), request.form.get("second", "")]
    return {request.form.get("kind", ""): pair, "message": (request.form.get("message") or "").strip()}


@bp.post("/<slug>/mails")
def add_mail(slug: str):
    text, raw, mails = _draft_list(slug, "mails")
    mails.append(_posted_mail({}))
    return _kept(slug, raw, f"#utskick-{len(mails)}", shown=text, new=("mails", len(mails) - 1, mails[-1]))


@bp.post("/<slug>/mails/<int:number>")
def save_mail(slug: str, number: int):
    raw, mails = _draft_item_or_404(slug, "mails", number)
    _posted_mail(mails[number - 1])
    return _kept(slug, raw, f"#utskick-{number}")


@bp.post("/<slug>/mails/<int:number>/remove")
def remove_mail(slug: str, number: int):
    raw, mails = _draft_item_or_404(slug, "mails", number)
    del mails[number - 1]
    if not mails:
        del raw["mails"]
    return _kept(slug, raw, "#utskick")


@bp.post("/<slug>/rules")
def add_rule(slug: str):
    text, raw, rules = _draft_list(slug, "rules")
    rules.append(_posted_rule())
    return _kept(slug, raw, f"#regel-{len(rules)}", shown=text, new=("rules", len(rules) - 1, rules[-1]))


@bp.post("/<slug>/rules/<int:number>")
def save_rule(slug: str, number: int):
    raw, rules = _draft_item_or_404(slug, "rules", number)
    rules[number - 1] = _posted_rule()
    return _kept(slug, raw, f"#regel-{number}")


@bp.post("/<slug>/rules/<int:number>/remove")
def remove_rule(slug: str, number: int):
    raw, rules = _draft_item_or_404(slug, "rules", number)
    del rules[number - 1]
    if not rules:
        del raw["rules"]
    return _kept(slug, raw, "#regler")


def init_app(app) -> None:
    app.register_blueprint(bp)
