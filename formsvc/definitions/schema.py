"""The shape of a form definition once read and checked: plain data, no Flask."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from datetime import date, datetime, timedelta
from typing import Any


class DefinitionError(ValueError):
    """A definition that cannot be used: a catalogue code (definitions/errors.py) and its values, the file,
    the field and, for a file read from YAML, the line and column of the node it is about.

    `at` names the setting the error is about (default: the `name` value), so its line can be found.
    `reason` is the English message; `message("sv")` the Swedish one.
    """

    def __init__(self, source: str, field_key: str | None, code: str, *, at: str | None = None, **values: Any):
        from .errors import message  # the catalogue; imported here as schema is the package's first module

        self.source = source
        self.field_key = field_key
        self.code = code
        self.values = values
        self.at = at if at is not None else values.get("name")
        self.reason = message(code, "en", **values)
        self.line: int | None = None  # 1-based, where the YAML node starts
        self.column: int | None = None
        super().__init__(self.reason)

    def message(self, language: str = "en") -> str:
        from .errors import message

        return message(self.code, language, **self.values)

    def describe(self, language: str = "en") -> str:
        """file:line:column: code field: message, as compilers write it (without a line when not from a file)."""
        where = f"{self.source}:{self.line}:{self.column}" if self.line else self.source
        field = ""
        if self.field_key:
            field = f"fältet ”{self.field_key}”: " if language == "sv" else f"field '{self.field_key}': "
        return f"{where}: {self.code} {field}{self.message(language)}"

    def __str__(self) -> str:
        return self.describe("en")


# Texts a definition may also carry in English (`label_en`, ...); where one is missing the Swedish shows.
LANGUAGES = ("sv", "en")
TRANSLATED_SUFFIX = "_en"


class Translated:
    """A part of a definition whose texts may have an English version beside the Swedish one."""

    def text(self, name: str, language: str) -> str:
        """The text `name` (e.g. "label") in `language` when the definition has it, else the Swedish one."""
        return self.translation(name, language) or getattr(self, name)

    def translation(self, name: str, language: str) -> str:
        """The text `name` in `language`, or "" when the definition does not have it in that language."""
        if language == LANGUAGES[0]:
            return getattr(self, name)
        return getattr(self, f"{name}_{language}", "")


@dataclass(frozen=True)
class Choice(Translated):
    key: str
    label: str
    label_en: str = ""


@dataclass(frozen=True)
class ShowIf:
    """`show_if`: the field is asked only when the earlier option field `field` has one of `values`."""

    field: str
    values: tuple[str, ...]

    def holds(self, answers: dict[str, Any]) -> bool:
        """Whether these answers (of the fields asked) meet the condition."""
        given = answers.get(self.field)
        picked = given if isinstance(given, list) else [given]
        return any(value in self.values for value in picked)


@dataclass(frozen=True)
class FieldDefinition(Translated):
    """One question. Which attributes matter depends on the type; the loader checks that."""

    key: str
    type: str
    label: str
    required: bool = False
    help: str = ""
    max_length: int | None = None
    choices: tuple[Choice, ...] = ()
    min_choices: int | None = None
    max_choices: int | None = None
    rank: int | None = None  # ranking: how many options are picked and ordered
    min_value: float | None = None
    max_value: float | None = None
    type_field: str | None = None  # organisation: a choice field that gets the register's type
    person: tuple[str, ...] = ()  # email: other fields about the person the address belongs to (erased with it)
    label_en: str = ""  # English versions (see Translated); "" when the definition has none
    help_en: str = ""
    min_label: str = ""  # scale: the words at its ends (max_value is its top)
    max_label: str = ""
    min_label_en: str = ""
    max_label_en: str = ""
    show_if: ShowIf | None = None  # asked only when this holds (see asked_fields)

    def choice_label(self, key: str, language: str = LANGUAGES[0]) -> str:
        """The label of an option (in `language` when the definition has it), or the key itself when the
        option is gone from the definition."""
        return next((c.text("label", language) for c in self.choices if c.key == key), key)

    def choices_translated(self, keys: list[str], language: str) -> bool:
        """Whether every one of these options has its label in `language`."""
        return all(c.translation("label", language) for c in self.choices if c.key in keys)


# Images a mail may show (`images:` on a mail in `mails:`): file in formsvc/static -> (type, Content-ID).
# templates/mail/layout.html draws each one it is given.
MAIL_IMAGES = {"sticker.png": ("image/png", "klistermarke")}


@dataclass(frozen=True)
class MailDefinition:
    template: str  # name of templates/mail/<template>.html
    to: str  # a field key holding an e-mail address, or "secretariat"
    images: tuple[str, ...] = ()  # names in MAIL_IMAGES, sent inline with the mail
    subject: str = ""  # staff's subject line, instead of the template's ("": the template's)
    message: str = ""  # staff's paragraphs, put above what the template writes


@dataclass(frozen=True)
class RosterPerson:
    """One person an answer names for the roster (e.g. the member): their role and the fields about them."""

    role: str  # as the roster shows it, e.g. "Ordinarie ledamot"
    name: str  # field keys
    email: str
    title: str | None = None
    phone: str | None = None


@dataclass(frozen=True)
class RosterDefinition:
    """`roster:` the people each answer names, one roster row each, and the field shown as "Övrigt"."""

    people: tuple[RosterPerson, ...]
    other: str | None = None


@dataclass(frozen=True)
class NewsletterDefinition:
    """Which fields of a form sign someone up to the newsletter (a double opt-in follows).

    `email` names the email field. `when`, if set, names the field that decides: a yesno field signs up
    on its first option ("ja"), a consent field when ticked; the loader puts that answer in `when_answer`.
    `name` and `organisation` name fields kept with the subscription.
    """

    email: str
    when: str | None = None
    when_answer: str | bool = True
    name: str | None = None
    organisation: str | None = None
    sign_up: bool = False  # the form the newsletter's pages link to for signing up (one form at most)

    def address(self, answers: dict[str, Any]) -> str | None:
        """The address these answers sign up, or None when they do not ask for the newsletter."""
        if self.when is not None and answers.get(self.when) != self.when_answer:
            return None
        value = answers.get(self.email)
        return value.strip() if isinstance(value, str) and value.strip() else None

    def value(self, answers: dict[str, Any], role: str) -> str | None:
        """The answer to the field named for `role` ("name" or "organisation"), if any."""
        key = getattr(self, role)
        value = answers.get(key) if key else None
        return value.strip() if isinstance(value, str) and value.strip() else None


@dataclass(frozen=True)
class Rule:
    """Two fields whose answers must differ (case-insensitively), e.g. two people's e-mail addresses; or,
    with `same`, must be the same (an e-mail address written twice)."""

    fields: tuple[str, str]
    message: str = ""  # shown next to the second field
    same: bool = False


@dataclass(frozen=True)
class FormDefinition(Translated):
    slug: str
    title: str
    intro: str = ""
    opens: datetime | None = None
    closes: datetime | None = None
    listed: bool = True  # shown on the start page
    retention_days: int | None = None
    retention_action: str = "anonymise"  # what `formsvc purge` does after retention_days: anonymise or delete
    embed_allow: tuple[str, ...] = ()  # origins (https://site.example) that may show the form in an iframe
    submit_label: str = "Skicka"
    thanks: str = ""
    fields: tuple[FieldDefinition, ...] = ()
    mails: tuple[MailDefinition, ...] = ()
    rules: tuple[Rule, ...] = ()
    newsletter: NewsletterDefinition | None = None  # these answers may sign up to the newsletter
    roster: RosterDefinition | None = None  # the staff roster (/staff/roster) is read from these answers
    # False: answered only through a personal invitation link (/i/<token>), not at /f/<slug> directly.
    open_link: bool = True
    # True: a new answer from an organisation replaces its current one; the older ones are kept as history.
    one_answer_per_organisation: bool = False
    # True: a vote used in live rounds (/live/<code>), so not open at /f/<slug> (open_link is False): there it is
    # answered only through a personal link, once per link; results and export add the rounds' votes.
    live_only: bool = False
    # True: every answer is an incoming document to be registered; a PDF copy goes to the registrar
    # (formsvc/records). record_series names the series it is registered in.
    record: bool = False
    record_series: str = ""
    purpose: str = ""  # what the answers are used for, shown on /personuppgifter
    title_en: str = ""  # English versions (see Translated); "" when the definition has none
    intro_en: str = ""
    purpose_en: str = ""
    thanks_en: str = ""
    submit_label_en: str = ""
    source: str = ""
    version: str = field(default="", compare=False)

    def field(self, key: str) -> FieldDefinition:
        return next(f for f in self.fields if f.key == key)

    def asked_fields(self, answer: Callable[[str], Any]) -> list[FieldDefinition]:
        """The fields these answers were asked (a field whose `show_if` does not hold was not), in order;
        `answer(key)` gives a field's answer. A condition on a field not asked does not hold."""
        asked, answers = [], {}
        for spec in self.fields:
            if spec.show_if is None or spec.show_if.holds(answers):
                asked.append(spec)
                answers[spec.key] = answer(spec.key)
        return asked

    @property
    def organisation_field(self) -> FieldDefinition | None:
        """The question naming the answering organisation (FieldType.names_organisation), if there is one."""
        from .registry import field_type  # the registry is built on this module

        return next((f for f in self.fields if field_type(f.type).names_organisation), None)

    @property
    def last_day(self) -> date | None:
        """The last day answers are taken, in the closing time's own zone."""
        return (self.closes - timedelta(microseconds=1)).date() if self.closes else None

    def state(self, now: datetime) -> str:
        """'open', 'not_open' (before opens) or 'closed' (at or after closes)."""
        if self.opens and now < self.opens:
            return "not_open"
        if self.closes and now >= self.closes:
            return "closed"
        return "open"

    def as_json(self) -> dict[str, Any]:
        """The definition as JSON-ready data: stored with each version so old answers stay readable."""
        data = asdict(self)
        data.pop("source")
        data.pop("version")
        for key in ("opens", "closes"):
            data[key] = data[key].isoformat() if data[key] else None
        return _without_empty_translations(data)


    @classmethod
    def from_json(cls, data: dict[str, Any], slug: str, version: str = "") -> FormDefinition:
        """The inverse of as_json: a stored version read back, so old answers are shown and exported with it.

        Keys a later release no longer knows are skipped; ones it added take their defaults.
        """
        spec_fields = tuple(
            FieldDefinition(
                **{
                    **_known(FieldDefinition, raw),
                    "choices": tuple(Choice(**_known(Choice, c)) for c in raw.get("choices") or ()),
                    "person": tuple(raw.get("person") or ()),
                    "show_if": _show_if_from_json(raw.get("show_if")),
                }
            )
            for raw in data.get("fields") or ()
        )
        plain = _known(cls, data)
        for key in ("opens", "closes"):
            plain[key] = datetime.fromisoformat(plain[key]) if plain.get(key) else None
        plain.update(
            slug=slug,
            fields=spec_fields,
            mails=tuple(
                MailDefinition(**{**_known(MailDefinition, m), "images": tuple(m.get("images") or ())})
                for m in data.get("mails") or ()
            ),
            roster=_roster_from_json(data.get("roster")),
            rules=tuple(
                Rule(**{**_known(Rule, r), "fields": tuple(r["fields"])}) for r in data.get("rules") or ()
            ),
        )
        definition = cls(**plain)
        object.__setattr__(definition, "version", version)
        return definition


def _show_if_from_json(data: dict | None) -> ShowIf | None:
    return ShowIf(field=data["field"], values=tuple(data["values"])) if data else None


def _roster_from_json(data: dict | None) -> RosterDefinition | None:
    if not data:
        return None
    people = tuple(RosterPerson(**_known(RosterPerson, p)) for p in data.get("people") or ())
    return RosterDefinition(people=people, other=data.get("other"))


# Settings added after definitions were first stored: left out of the stored JSON while unset, so a
# definition that does not use them keeps its version.
LATER_SETTINGS = {
    "purpose", "roster", "images", "sign_up", "live_only", "record", "record_series", "min_label", "max_label",
    "show_if", "subject", "message", "same",
}  # fmt: skip


def _without_empty_translations(data: Any) -> Any:
    """Leave out texts a definition does not have (an English text, a purpose) and later settings it does
    not use, so a definition written before they existed keeps its content, and so its version."""
    if isinstance(data, list | tuple):
        return [_without_empty_translations(item) for item in data]
    if not isinstance(data, dict):
        return data
    return {
        key: _without_empty_translations(value)
        for key, value in data.items()
        if not (value == "" and key.endswith(TRANSLATED_SUFFIX)) and not (key in LATER_SETTINGS and not value)
    }


def _known(cls: type, data: dict[str, Any]) -> dict[str, Any]:
    names = {f.name for f in fields(cls)}
    return {key: value for key, value in data.items() if key in names}


def definition_version(definition: FormDefinition) -> str:
    """A short hash of the definition's content: equal content, equal version."""
    canonical = json.dumps(definition.as_json(), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()[:12]
