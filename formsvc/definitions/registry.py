"""Field types: each name a definition may use, mapped to the WTForms field it becomes.

A type not in FIELD_TYPES is refused by the loader, so nothing falls through at request time.
Messages go through `t` (the caller's translate function, lazy in the app) so they follow the locale.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

import email_validator  # noqa: F401  WTForms' Email imports it at its first use: a worker's first answer
from wtforms import fields, validators
from wtforms.fields.core import UnboundField

from .schema import FieldDefinition

Translate = Callable[..., str]

DEFAULT_MAX_LENGTH = {"text": 200, "textarea": 5000, "email": 254, "phone": 40, "organisation": 200}
PHONE_PATTERN = r"^\+?[0-9][0-9 ()\-]{4,24}$"


def _presence(spec: FieldDefinition, t: Translate, message: str | None = None) -> list:
    if spec.required:
        return [validators.InputRequired(message=message or t("Fyll i det här fältet."))]
    return [validators.Optional()]


def _length(spec: FieldDefinition, t: Translate) -> validators.Length:
    limit = spec.max_length or DEFAULT_MAX_LENGTH[spec.type]
    return validators.Length(max=limit, message=t("Svaret får vara högst %(max)d tecken.", max=limit))


class _RequiredText:
    """Like DataRequired for text: only spaces is no answer."""

    def __init__(self, message: str):
        self.message = message

    def __call__(self, form, field):
        if not (field.data or "").strip():
            field.errors[:] = []
            raise validators.StopValidation(self.message)


def _text_presence(spec: FieldDefinition, t: Translate) -> list:
    if spec.required:
        return [_RequiredText(t("Fyll i det här fältet."))]
    return [validators.Optional()]


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def build_text(spec, t):
    return fields.StringField(
        spec.label, [*_text_presence(spec, t), _length(spec, t)], description=spec.help, filters=[_strip]
    )


def build_textarea(spec, t):
    return fields.TextAreaField(spec.label, [*_text_presence(spec, t), _length(spec, t)], description=spec.help)


class AsciiLocalPart:
    """No letters outside ASCII before the @: many mail servers do not take such addresses (SMTPUTF8), and
    the receipt would never arrive. After the @ they are a domain name, which mail reaches."""

    def __init__(self, message: str):
        self.message = message

    def __call__(self, form, field):
        if not (field.data or "").rpartition("@")[0].isascii():
            raise validators.StopValidation(self.message)


def build_email(spec, t):
    return fields.EmailField(
        spec.label,
        [
            *_text_presence(spec, t),
            _length(spec, t),
            AsciiLocalPart(
                t(
                    "Vi kan inte skicka till en adress med å, ä, ö eller andra specialtecken före @. "
                    "Skriv en adress utan dem."
                )
            ),
            validators.Email(
                message=t("Skriv en e-postadress i formen namn@exempel.se."), check_deliverability=False
            ),
        ],
        description=spec.help,
        filters=[_strip],
    )


def build_phone(spec, t):
    return fields.TelField(
        spec.label,
        [
            *_text_presence(spec, t),
            _length(spec, t),
            validators.Regexp(PHONE_PATTERN, message=t("Skriv ett telefonnummer med siffror, t.ex. 021-123 45 67.")),
        ],
        description=spec.help,
        filters=[_strip],
    )


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


def build_number(spec, t):
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


def build_date(spec, t):
    return fields.DateField(spec.label, _presence(spec, t), description=spec.help, format="%Y-%m-%d")


def _choices(spec):
    return [fields.SelectChoice(c.key, c.label) for c in spec.choices]


def build_choice(spec, t):
    """Single choice, also yes/no: the loader gives yes/no its two options."""
    return fields.RadioField(
        spec.label, _presence(spec, t, t("Välj ett alternativ.")), choices=_choices(spec), description=spec.help
    )


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


def build_multichoice(spec, t):
    low = spec.min_choices or (1 if spec.required else 0)
    rules = [ChoiceCount(low, spec.max_choices, t, spec.required)]
    return fields.SelectMultipleField(spec.label, rules, choices=_choices(spec), description=spec.help)


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


def build_ranking(spec, t):
    return RankingField(
        spec.label, [], choices=_choices(spec), rank=spec.rank, t=t, required=spec.required, description=spec.help
    )


def build_consent(spec, t):
    rules = [validators.DataRequired(message=t("Kryssa i rutan för att kunna skicka."))]
    return fields.BooleanField(spec.label, rules if spec.required else [], description=spec.help)


def build_organisation(spec, t):
    return fields.StringField(
        spec.label, [*_text_presence(spec, t), _length(spec, t)], description=spec.help, filters=[_strip]
    )


@dataclass(frozen=True)
class FieldType:
    """What the rest of the service needs to know about a type."""

    build: Callable[[FieldDefinition, Translate], UnboundField]
    needs_choices: bool = False
    countable: bool = False  # answers are option keys: counted per option in SQL
    multiple: bool = False  # the answer is a list
    # A link's query parameters may fill it: picked values only (options, the register's organisation), never
    # typed personal data. An e-mail address from a link could send someone's receipt elsewhere.
    from_link: bool = False


FIELD_TYPES: dict[str, FieldType] = {
    "text": FieldType(build_text),
    "textarea": FieldType(build_textarea),
    "email": FieldType(build_email),
    "phone": FieldType(build_phone),
    "number": FieldType(build_number),
    "date": FieldType(build_date),
    "choice": FieldType(build_choice, needs_choices=True, countable=True, from_link=True),
    "multichoice": FieldType(build_multichoice, needs_choices=True, countable=True, multiple=True, from_link=True),
    "ranking": FieldType(build_ranking, needs_choices=True, countable=True, multiple=True, from_link=True),
    "yesno": FieldType(build_choice, countable=True, from_link=True),
    "consent": FieldType(build_consent),
    "organisation": FieldType(build_organisation, from_link=True),
}
