"""Field types: one class per type a definition may use, owning everything about it.

A type names the settings a definition may give it (and checks them), builds its WTForms field, says how a
prefilled value is read, how an answer reads in receipts and mails, its export columns, whether and how it
is counted and summarised, what anonymisation keeps, and which template macro draws it. Everything else
asks the type (`field_type(spec.type)`); nothing switches on a type's name. A type not in FIELD_TYPES is
refused by the loader, so nothing falls through at request time.

Adding a type: one class here (with `@register` and a `label`, its Swedish name for staff, with English in
messages.po, and a `starter`, the settings a new question of it starts with in the editor), one macro in
templates/macros/fields.html named after it, one line in docs/forms.md. The app checks at start that every
registered type has its macro, and tests/test_field_type_conformance.py runs every registered type through
every stage with its `examples`.
Messages go through `t` (the caller's translate function, lazy in the app) so they follow the locale.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, ClassVar

import email_validator  # noqa: F401  WTForms' Email imports it at its first use: a worker's first answer
from wtforms import fields, validators
from wtforms.fields.core import UnboundField

from . import checks
from .schema import Choice, FieldDefinition

Translate = Callable[..., str]
Fail = checks.Fail
# A setting a definition may give a type: YAML name -> (FieldDefinition attribute, check).
Setting = tuple[str, Callable[[Any, str, Fail], Any]]

YES = "Ja"  # how exports write a ticked box or a picked option
NO = "Nej"
CONSENT_WORDS = {"sv": ("Ja", "Nej"), "en": ("Yes", "No")}
PHONE_PATTERN = r"^\+?[0-9][0-9 ()\-]{4,24}$"
LONGEST_PREFILL = 5000  # characters a prefilled text may have when the field sets no max_length


@dataclass(frozen=True)
class Columns:
    """The export columns one question fills, and how to fill them from an answer."""

    headers: tuple[str, ...]
    values: Callable[[dict[str, Any]], list[Any]]  # the answers -> one str, int, float, date or None per header
    # False only when the values can be nothing but "Ja"/"Nej", numbers or empty: those cells skip the
    # formula check, which keeps a large export close to openpyxl's own speed.
    free_text: bool = True


@dataclass(frozen=True)
class Examples:
    """Small examples the conformance test runs the type through (tests/test_field_type_conformance.py).

    `settings` is a field as a definition writes it (without key and type); `good` and `bad` are what a
    browser may post (a list: one item per value sent); `bad_settings` a setting the loader must refuse,
    with the catalogue code it is refused with (definitions/errors.py)."""

    settings: dict[str, Any]
    good: list[str]
    bad: list[str]
    bad_settings: tuple[dict[str, Any], str]
    stored: Any = None  # what `good` is stored as
    shown: str = ""  # how `stored` reads in a receipt


def N_(text: str) -> str:
    """Marks a text for the translation catalogue (pybabel extracts N_); those who show it translate it."""
    return text


class FieldType:
    """What the rest of the service needs to know about one type. Subclasses set `name` and override."""

    name: ClassVar[str] = ""
    label: ClassVar[str] = ""  # what staff call it, in Swedish (the editor translates it with _())
    template: ClassVar[str] = "macros/fields.html"  # holds the macro named after the type that draws it
    settings: ClassVar[dict[str, Setting]] = {}  # beyond key, type, label, required, help (and _en)
    needs_choices: ClassVar[bool] = False
    default_choices: ClassVar[tuple[Choice, ...]] = ()  # options a definition may leave out
    countable: ClassVar[bool] = False  # answers are values counted per value in SQL (answer_values)
    multiple: ClassVar[bool] = False  # the answer is a list
    # A link's query parameters may fill it: picked values only (options, the register's organisation), never
    # typed personal data. An e-mail address from a link could send someone's receipt elsewhere.
    from_link: ClassVar[bool] = False
    prefillable: ClassVar[bool] = True  # False: only the person may give it (consent)
    share_builder: ClassVar[bool] = False  # staff's share page offers to prefill it
    single_choice: ClassVar[bool] = False  # as a first question: one button per option in a share snippet
    grouped: ClassVar[bool] = False  # drawn as a group whose first input has the id "<field>-1"
    kept_on_anonymise: ClassVar[bool] = False  # answers say nothing about a person: retention keeps them
    describes_person: ClassVar[bool] = False  # free text an email field's `person` may name
    is_address: ClassVar[bool] = False  # an e-mail address: mails may go to it
    names_organisation: ClassVar[bool] = False  # the answering organisation
    records_consent: ClassVar[bool] = False  # a ticked answer is stored as consent with the text's version
    live_question: ClassVar[bool] = False  # what a live round asks
    newsletter_roles: ClassVar[frozenset[str]] = frozenset()  # what a form's `newsletter:` may name it as
    summary: ClassVar[str | None] = None  # the result kind (aggregate.SUMMARIES, staff/_results.html), if any
    # The settings a question added in the editor starts with (beside its key, type and label): what staff
    # expect of a new question, not the small limits of `examples`, which are there to be crossed in tests.
    starter: ClassVar[dict[str, Any]] = {}
    examples: ClassVar[Examples]

    def check(self, spec: FieldDefinition, fail: Fail) -> None:
        """Checks of the type's settings together, once each is read."""

    def check_in_form(self, spec: FieldDefinition, by_key: dict[str, FieldDefinition], fail: Fail) -> None:
        """Checks against the form's other fields."""

    def build(self, spec: FieldDefinition, t: Translate) -> UnboundField:
        raise NotImplementedError(self.name)

    def accepts(self, spec: FieldDefinition, value: str) -> bool:
        """Whether a prefilled value (a link's query parameter) may go in the form."""
        if not self.prefillable:
            return False
        if spec.choices:
            return any(choice.key == value for choice in spec.choices)
        return len(value) <= (spec.max_length or LONGEST_PREFILL)

    def prefilled(self, spec: FieldDefinition, kept: list[str]) -> list[str]:
        """Of the acceptable values given, those the form takes."""
        return kept[:1]

    def display(self, spec: FieldDefinition, value: Any, language: str) -> str:
        """An answer (not empty) as a person reads it: labels, not keys."""
        if isinstance(value, list):
            return "; ".join(spec.choice_label(key, language) for key in value)
        if spec.choices:
            return spec.choice_label(value, language)
        return str(value)

    def columns(self, spec: FieldDefinition) -> Columns:
        """Export: one column with the answer as text (as it was stored)."""
        key = spec.key

        def values(answers):
            found = answers.get(key)
            return [found if found is None or isinstance(found, str) else str(found)]

        return Columns((spec.label,), values)

    def counted(self, value: Any) -> Iterable[tuple[str, int | None]]:
        """(value, place) rows to count for a countable type's answer (not empty)."""
        for key in value if isinstance(value, list) else [value]:
            yield str(key), None

    def signs_up(self, spec: FieldDefinition) -> Any:
        """The answer that asks for the newsletter when a form's `newsletter: when` names a field of this type
        (a type with "when" in newsletter_roles)."""
        return True


FIELD_TYPES: dict[str, FieldType] = {}


def register(cls: type[FieldType]) -> type[FieldType]:
    """Class decorator: the type becomes usable in definitions (in the order registered)."""
    FIELD_TYPES[cls.name] = cls()
    return cls


class _Stored(FieldType):
    """A type only an older stored version has: its answers are shown and exported as they were stored."""

    name = "stored"


STORED = _Stored()


def field_type(name: str) -> FieldType:
    """The registered type; for a name only an older stored version knows, plain stored values."""
    return FIELD_TYPES.get(name, STORED)


def with_setting(attribute: str) -> list[str]:
    """The types that take a setting (by YAML name), for messages."""
    return [t.name for t in FIELD_TYPES.values() if attribute in t.settings]


# --- WTForms pieces -----------------------------------------------------------------------------------


def _presence(spec: FieldDefinition, t: Translate, message: str | None = None) -> list:
    if spec.required:
        return [validators.InputRequired(message=message or t("Fyll i det här fältet."))]
    return [validators.Optional()]


class _RequiredText:
    """Like DataRequired for text: only spaces is no answer."""

    def __init__(self, message: str):
        self.message = message

    def __call__(self, form, field):
        if not (field.data or "").strip():
            field.errors[:] = []
            raise validators.StopValidation(self.message)


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _choices(spec):
    return [fields.SelectChoice(c.key, c.label) for c in spec.choices]


def _label(spec: FieldDefinition, found: Any) -> Any:
    """An option's label; what an older version stored otherwise, as text."""
    if isinstance(found, str):
        return spec.choice_label(found)
    if isinstance(found, list):
        return "; ".join(spec.choice_label(str(key)) for key in found)
    return None if found is None else str(found)


# Options a new question with options starts with, for staff to write over.
PLACEHOLDER_OPTIONS = {"alternativ_1": "Alternativ 1", "alternativ_2": "Alternativ 2"}


# --- The types ----------------------------------------------------------------------------------------


class _Text(FieldType):
    """Free text on one line; the base of the other typed-text types."""

    settings = {"max_length": ("max_length", checks.positive)}
    default_max_length: ClassVar[int] = 200
    field_class: ClassVar[type] = fields.StringField

    def length(self, spec, t) -> validators.Length:
        limit = spec.max_length or self.default_max_length
        return validators.Length(max=limit, message=t("Svaret får vara högst %(max)d tecken.", max=limit))

    def rules(self, spec, t) -> list:
        presence = [_RequiredText(t("Fyll i det här fältet."))] if spec.required else [validators.Optional()]
        return [*presence, self.length(spec, t)]

    def build(self, spec, t):
        return self.field_class(spec.label, self.rules(spec, t), description=spec.help, filters=[_strip])


@register
class TextType(_Text):
    name = "text"
    label = N_("Kort text (en rad)")
    describes_person = True
    newsletter_roles = frozenset({"name", "organisation"})
    summary = "text"
    examples = Examples(
        {"label": "Namn", "max_length": 10}, ["Kim"], ["x" * 11], ({"max_length": 0}, "FS014"), "Kim", "Kim"
    )


@register
class TextareaType(_Text):
    name = "textarea"
    label = N_("Lång text")
    starter = {"max_length": 2000}  # shown in the editor, where staff may change it
    default_max_length = 5000
    describes_person = True
    summary = "text"
    examples = Examples(
        {"label": "Övrigt", "max_length": 20}, ["Rad ett\r\nrad två"], ["x" * 21],
        ({"max_length": "lång"}, "FS014"), "Rad ett\r\nrad två", "Rad ett\r\nrad två",
    )  # fmt: skip

    def build(self, spec, t):
        return fields.TextAreaField(spec.label, self.rules(spec, t), description=spec.help)


class AsciiLocalPart:
    """No letters outside ASCII before the @: many mail servers do not take such addresses (SMTPUTF8), and
    the receipt would never arrive. After the @ they are a domain name, which mail reaches."""

    def __init__(self, message: str):
        self.message = message

    def __call__(self, form, field):
        if not (field.data or "").rpartition("@")[0].isascii():
            raise validators.StopValidation(self.message)


@register
class EmailType(_Text):
    name = "email"
    label = N_("E-postadress")
    settings = {**_Text.settings, "person": ("person", checks.keys)}
    default_max_length = 254
    field_class = fields.EmailField
    is_address = True
    newsletter_roles = frozenset({"email"})
    examples = Examples(
        {"label": "E-post"}, ["kim@example.org"], ["kim@"], ({"person": "namn"}, "FS016"),
        "kim@example.org", "kim@example.org",
    )  # fmt: skip

    def rules(self, spec, t):
        return [
            *super().rules(spec, t),
            AsciiLocalPart(
                t(
                    "Vi kan inte skicka till en adress med å, ä, ö eller andra specialtecken före @. "
                    "Skriv en adress utan dem."
                )
            ),
            validators.Email(
                message=t("Skriv en e-postadress i formen namn@exempel.se."), check_deliverability=False
            ),
        ]

    def check_in_form(self, spec, by_key, fail):
        for other in spec.person:
            if other == spec.key or other not in by_key or not field_type(by_key[other].type).describes_person:
                people = ", ".join(t.name for t in FIELD_TYPES.values() if t.describes_person)
                fail("FS055", at="person", other=other, types=people)


@register
class PhoneType(_Text):
    name = "phone"
    label = N_("Telefonnummer")
    default_max_length = 40
    field_class = fields.TelField
    describes_person = True
    examples = Examples(
        {"label": "Telefon"}, ["021-123 45 67"], ["ring mig"], ({"max_length": True}, "FS014"),
        "021-123 45 67", "021-123 45 67",
    )  # fmt: skip

    def rules(self, spec, t):
        message = t("Skriv ett telefonnummer med siffror, t.ex. 021-123 45 67.")
        return [*super().rules(spec, t), validators.Regexp(PHONE_PATTERN, message=message)]


# A number as people write it: digits, an optional sign and decimal part. No exponents, NaN or
# Infinity (Decimal would take them), and no more digits than a float keeps exactly.
PLAIN_NUMBER = re.compile(r"[-+−]?(\d{1,12})([.,]\d{1,3})?")


class SwedishDecimalField(fields.DecimalField):
    """Accepts a decimal comma and spaces between thousands, as Swedes write numbers."""

    def process_formdata(self, valuelist):
        if not valuelist or not valuelist[0].strip():
            self.data = None
            return
        raw = valuelist[0].replace("\u00a0", "").replace(" ", "")
        if not PLAIN_NUMBER.fullmatch(raw):
            self.data = None
            raise ValueError(self.gettext("Not a valid decimal value."))
        self.data = Decimal(raw.replace(",", ".").replace("\u2212", "-"))


def _number_cell(key: str) -> Callable[[dict[str, Any]], list[Any]]:
    def values(answers):
        found = answers.get(key)
        plain = found is None or isinstance(found, int | float) and not isinstance(found, bool)
        return [found if plain else str(found)]

    return values


@register
class NumberType(FieldType):
    name = "number"
    label = N_("Tal")
    settings = {"min_value": ("min_value", checks.number), "max_value": ("max_value", checks.number)}
    examples = Examples(
        {"label": "Antal", "min_value": 0, "max_value": 10000}, ["1 234,5"], ["10 001"],
        ({"min_value": 5, "max_value": 1}, "FS054"), 1234.5, "1234,5",
    )  # fmt: skip

    def check(self, spec, fail):
        if spec.min_value is not None and spec.max_value is not None and spec.min_value > spec.max_value:
            fail("FS054", at="min_value")

    def build(self, spec, t):
        rules = _presence(spec, t)
        if spec.min_value is not None or spec.max_value is not None:
            rules.append(
                validators.NumberRange(
                    min=spec.min_value,
                    max=spec.max_value,
                    message=t("Ange ett tal mellan %(min)s och %(max)s.", min=spec.min_value, max=spec.max_value),
                )
            )
        return SwedishDecimalField(spec.label, rules, description=spec.help)

    def display(self, spec, value, language):
        if isinstance(value, list) or spec.choices:
            return super().display(spec, value, language)
        return f"{value}".replace(".", ",")

    def columns(self, spec):
        return Columns((spec.label,), _number_cell(spec.key))


@register
class DateType(FieldType):
    name = "date"
    label = N_("Datum")
    examples = Examples({"label": "Datum"}, ["2026-05-04"], ["4 maj"], ({"max_length": 3}, "FS038"),
                        "2026-05-04", "2026-05-04")  # fmt: skip

    def build(self, spec, t):
        return fields.DateField(spec.label, _presence(spec, t), description=spec.help, format="%Y-%m-%d")

    def display(self, spec, value, language):
        if isinstance(value, list) or spec.choices:
            return super().display(spec, value, language)
        return value  # ISO dates are how Swedish dates are written

    def columns(self, spec):
        key = spec.key

        def values(answers):
            found = answers.get(key)
            try:
                return [date.fromisoformat(found) if found else None]
            except (TypeError, ValueError):  # an older version stored something else under this key
                return [str(found)]

        return Columns((spec.label,), values)


class _Options(FieldType):
    """Answers are option keys from the definition's `choices`."""

    needs_choices = True
    countable = True
    from_link = True
    grouped = True
    kept_on_anonymise = True

    def columns(self, spec):
        labels = {c.key: c.label for c in spec.choices}

        def values(answers):
            found = answers.get(spec.key)
            return [labels[found] if found in labels else _label(spec, found)]

        return Columns((spec.label,), values)


@register
class ChoiceType(_Options):
    name = "choice"
    label = N_("Ett val (radioknappar)")
    share_builder = True
    single_choice = True
    summary = "choice"
    starter = {"choices": PLACEHOLDER_OPTIONS}
    examples = Examples({"label": "Färg", "choices": {"rod": "Röd", "bla": "Blå"}}, ["bla"], ["gron"],
                        ({"choices": ["rod"]}, "FS040"), "bla", "Blå")  # fmt: skip

    def build(self, spec, t):
        return fields.RadioField(
            spec.label, _presence(spec, t, t("Välj ett alternativ.")), choices=_choices(spec), description=spec.help
        )


@register
class YesnoType(ChoiceType):
    name = "yesno"
    label = N_("Ja eller nej")
    needs_choices = False
    default_choices = (Choice("ja", "Ja", "Yes"), Choice("nej", "Nej", "No"))
    newsletter_roles = frozenset({"when"})
    starter = {}  # its own Ja and Nej, not a choice question's placeholders
    examples = Examples({"label": "Vill du?"}, ["ja"], ["kanske"], ({"rank": 2}, "FS038"), "ja", "Ja")

    def signs_up(self, spec: FieldDefinition) -> Any:
        """The answer that asks for the newsletter when a form's `newsletter: when` names this field."""
        return spec.choices[0].key


class ChoiceCount:
    """At least `low` and at most `high` options picked."""

    def __init__(self, low: int, high: int | None, t: Translate, required: bool):
        self.low, self.high, self.t, self.required = low, high, t, required

    def __call__(self, form, field):
        picked = len(field.data or [])
        if picked == 0 and not self.required:
            return
        if picked < self.low:
            if self.low == 1:
                raise validators.StopValidation(self.t("Välj minst ett alternativ."))
            raise validators.StopValidation(self.t("Välj minst %(n)d alternativ.", n=self.low))
        if self.high is not None and picked > self.high:
            raise validators.StopValidation(self.t("Välj högst %(n)d alternativ.", n=self.high))


@register
class MultichoiceType(_Options):
    name = "multichoice"
    label = N_("Flera val (kryssrutor)")
    settings = {"min": ("min_choices", checks.positive), "max": ("max_choices", checks.positive)}
    multiple = True
    share_builder = True
    summary = "multichoice"
    starter = {"choices": PLACEHOLDER_OPTIONS}  # no min or max: any number may be picked
    examples = Examples(
        {"label": "Områden", "choices": {"a": "A", "b": "B", "c": "C"}, "max": 2}, ["a", "c"], ["a", "b", "c"],
        ({"min": 3, "max": 2}, "FS050"), ["a", "c"], "A; C",
    )  # fmt: skip

    def check(self, spec, fail):
        if spec.min_choices and spec.max_choices and spec.min_choices > spec.max_choices:
            fail("FS050", at="min")
        if spec.max_choices and spec.max_choices > len(spec.choices):
            fail("FS051", at="max")

    def build(self, spec, t):
        low = spec.min_choices or (1 if spec.required else 0)
        rules = [ChoiceCount(low, spec.max_choices, t, spec.required)]
        return fields.SelectMultipleField(spec.label, rules, choices=_choices(spec), description=spec.help)

    def prefilled(self, spec, kept):
        return kept

    def columns(self, spec):
        """One column per option, "Ja" where it was picked."""
        keys = [c.key for c in spec.choices]
        nothing = [None] * len(keys)

        def values(answers):
            found = answers.get(spec.key)
            if not found or not isinstance(found, list):
                return nothing
            return [YES if key in found else None for key in keys]

        return Columns(tuple(f"{spec.label}: {c.label}" for c in spec.choices), values, free_text=False)


class RankingField(fields.Field):
    """Pick and order `rank` of the options: one select per place, all with the field's name.

    The browser sends the selects in document order, so the list received is the ranking.
    """

    def __init__(self, label=None, validators=None, choices=(), rank=3, t=None, required=False, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.choices = list(choices)
        self.rank = rank
        self.required = required
        self.t = t

    def process_formdata(self, valuelist):
        self.data = [v.strip() for v in valuelist[: self.rank + 1]]

    def _value(self):
        return self.data or []

    def pre_validate(self, form):
        picked = [v for v in (self.data or []) if v]
        if not picked and not self.required:
            return
        known = {choice.value for choice in self.choices}
        if len(self.data or []) > self.rank or any(v not in known for v in picked):
            raise validators.StopValidation(self.t("Välj bland de alternativ som finns i listan."))
        if len(picked) != self.rank or len(self.data) != self.rank:
            raise validators.StopValidation(self.t("Välj exakt %(n)d alternativ, ett för varje plats.", n=self.rank))
        if len(set(picked)) != len(picked):
            raise validators.StopValidation(self.t("Samma alternativ kan bara väljas en gång."))

    def post_validate(self, form, validation_stopped):
        if not any(self.data or []):
            self.data = []


@register
class RankingType(_Options):
    name = "ranking"
    label = N_("Rangordning")
    settings = {"rank": ("rank", checks.positive)}
    multiple = True
    live_question = True
    summary = "ranking"
    starter = {"choices": {**PLACEHOLDER_OPTIONS, "alternativ_3": "Alternativ 3"}, "rank": 3}
    examples = Examples(
        {"label": "Viktigast", "choices": {"a": "A", "b": "B", "c": "C"}, "rank": 2}, ["c", "a"], ["c", "c"],
        ({"rank": 4}, "FS053"), ["c", "a"], "1. C, 2. A",
    )  # fmt: skip

    def check(self, spec, fail):
        if not spec.rank:
            fail("FS052")
        if spec.rank > len(spec.choices):
            fail("FS053", at="rank")

    def build(self, spec, t):
        return RankingField(
            spec.label, [], choices=_choices(spec), rank=spec.rank, t=t, required=spec.required, description=spec.help
        )

    def prefilled(self, spec, kept):
        return list(dict.fromkeys(kept))[: spec.rank]

    def display(self, spec, value, language):
        return ", ".join(f"{place}. {spec.choice_label(key, language)}" for place, key in enumerate(value, start=1))

    def columns(self, spec):
        """One column per place, the option's label in it."""
        places = spec.rank or len(spec.choices)

        def values(answers):
            found = answers.get(spec.key)
            found = found if isinstance(found, list) else []
            return [_label(spec, found[n]) if n < len(found) else None for n in range(places)]

        return Columns(tuple(f"{spec.label}: plats {n}" for n in range(1, places + 1)), values)

    def counted(self, value):
        for place, key in enumerate(value, start=1):
            yield key, place


@register
class ConsentType(FieldType):
    name = "consent"
    label = N_("Samtycke (kryssruta)")
    prefillable = False  # consent must be given by the person, never by a link
    kept_on_anonymise = True
    records_consent = True
    newsletter_roles = frozenset({"when"})
    examples = Examples({"label": "Jag samtycker", "required": True}, ["y"], [], ({"choices": {"a": "A"}}, "FS037"),
                        True, "Ja")  # fmt: skip

    def build(self, spec, t):
        rules = [validators.DataRequired(message=t("Kryssa i rutan för att kunna skicka."))]
        return fields.BooleanField(spec.label, rules if spec.required else [], description=spec.help)

    def display(self, spec, value, language):
        yes, no = CONSENT_WORDS.get(language, CONSENT_WORDS["sv"])
        return yes if value else no

    def columns(self, spec):
        key = spec.key

        def values(answers):
            found = answers.get(key)
            return [None if found is None else (YES if found else NO)]

        return Columns((spec.label,), values, free_text=False)



@register
class OrganisationType(_Text):
    name = "organisation"
    label = N_("Organisation (med förslag från registret)")
    settings = {**_Text.settings, "type_field": ("type_field", lambda value, name, fail: value)}
    from_link = True
    share_builder = True
    kept_on_anonymise = True
    names_organisation = True
    newsletter_roles = frozenset({"organisation"})
    examples = Examples({"label": "Organisation"}, ["Sala kommun"], ["x" * 201], ({"person": ["x"]}, "FS038"),
                        "Sala kommun", "Sala kommun")  # fmt: skip

    def check_in_form(self, spec, by_key, fail):
        chosen = by_key.get(spec.type_field) if spec.type_field else None
        if spec.type_field and (chosen is None or type(field_type(chosen.type)) is not ChoiceType):
            fail("FS056", at="type_field", other=spec.type_field)


class ScaleField(fields.RadioField):
    """A rating 1..N: the posted value as a whole number, or None when it is not one."""

    def __init__(self, label=None, validators=None, t=None, **kwargs):
        super().__init__(label, validators, coerce=int, **kwargs)
        self.t = t

    def process_formdata(self, valuelist):
        self.data = int(valuelist[0]) if valuelist and valuelist[0].strip().isdigit() else None

    def pre_validate(self, form):
        if self.raw_data and self.raw_data[0].strip() and self.data not in {choice.value for choice in self.choices}:
            raise validators.StopValidation(self.t("Välj bland de alternativ som finns i listan."))


@register
class ScaleType(FieldType):
    """A rating from 1 to `max` (2..10, default 5), with labelled ends; summarised with mean and median."""

    name = "scale"
    label = N_("Skala (betyg)")
    settings = {
        "max": ("max_value", checks.whole_between(2, 10)),
        "min_label": ("min_label", checks.text),
        "max_label": ("max_label", checks.text),
        "min_label_en": ("min_label_en", checks.text),
        "max_label_en": ("max_label_en", checks.text),
    }
    countable = True
    grouped = True
    kept_on_anonymise = True  # a rating says nothing about who gave it
    summary = "scale"
    starter = {"max": 5, "min_label": "Instämmer inte alls", "max_label": "Instämmer helt"}
    examples = Examples(
        {"label": "Workshoppen var meningsfull", "max": 4, "min_label": "Instämmer inte alls",
         "max_label": "Instämmer helt", "max_label_en": "Strongly agree"},
        ["3"], ["5"], ({"max": 11}, "FS017"), 3, "3",
    )  # fmt: skip
    DEFAULT_TOP: ClassVar[int] = 5

    def top(self, spec: FieldDefinition) -> int:
        return int(spec.max_value or self.DEFAULT_TOP)

    def build(self, spec, t):
        values = [fields.SelectChoice(n, str(n)) for n in range(1, self.top(spec) + 1)]
        rules = _presence(spec, t, t("Välj ett alternativ."))
        return ScaleField(spec.label, rules, t=t, choices=values, description=spec.help)

    def accepts(self, spec, value):
        return value in {str(n) for n in range(1, self.top(spec) + 1)}

    def columns(self, spec):
        return Columns((spec.label,), _number_cell(spec.key))
