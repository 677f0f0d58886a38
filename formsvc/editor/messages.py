"""The refusals the editor page shows, in words staff use: questions and options named by their text, no
YAML names, no line numbers. `formsvc forms check` and uploaded files keep the loader's own wording
(definitions/errors.py); a code not here is shown on the editor page as the loader says it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext

from ..definitions.registry import N_
from . import drafts

# Code -> what the editor says, next to the setting it is about. %(question)s is the text of the question the
# problem names (`other`), %(option)s the text of the option it names (or the key as written, when no option
# has it); other placeholders are the loader's values.
MESSAGES = {
    "FS010": N_("Skriv formulärets rubrik."),
    "FS014": N_("Skriv ett heltal, minst 1."),
    "FS015": N_("Skriv ett tal, till exempel 10 eller 2.5."),
    "FS017": N_("Skriv ett heltal från %(low)s till %(high)s."),
    "FS020": N_("Skriv datumet som ÅÅÅÅ-MM-DD eller ÅÅÅÅ-MM-DD TT:MM, till exempel 2027-03-01 eller 2027-03-01 "
                "17:00."),
    "FS021": N_("Formuläret måste stänga efter att det öppnar."),
    "FS022": N_("Skriv ett helt antal dagar, minst 1."),
    "FS035": N_("Skriv frågans text."),
    "FS036": N_("Skriv minst ett alternativ, ett per rad."),
    "FS041": N_("Alternativet ”%(option)s” behöver en nyckel av små bokstäver a–z, siffror och _ före kolonet, "
                "till exempel ”mandag: Måndag”."),
    "FS050": N_("”Minst antal val” är större än ”Högst antal val”."),
    "FS051": N_("”Högst antal val” är större än antalet alternativ."),
    "FS052": N_("Skriv hur många alternativ som ska rangordnas."),
    "FS053": N_("”Antal alternativ att rangordna” är större än antalet alternativ."),
    "FS054": N_("”Minsta värde” är större än ”Största värde”."),
    "FS100": N_("Kryssa i minst ett alternativ som ska visa frågan, eller välj ”Alltid”."),
    "FS101": N_("Villkoret bygger på frågan ”%(question)s”, som inte finns i formuläret. Ändra villkoret först, "
                "till exempel till ”Alltid”."),
    "FS102": N_("Villkoret bygger på frågan ”%(question)s”, som kommer efter den här frågan. Flytta den frågan "
                "före, eller välj en annan."),
    "FS103": N_("Villkoret bygger på frågan ”%(question)s”, som inte har några alternativ. Välj en fråga med "
                "alternativ."),
    "FS104": N_("Villkoret bygger på alternativet ”%(option)s”, som inte finns i frågan ”%(question)s”. Ändra "
                "villkoret först, eller behåll alternativet."),
    "FS063": N_("Välj sekretariatet eller en fråga av typen E-postadress: mejlet går till adressen som skrivs där."),
    "FS065": N_("Välj vilken sorts regel det är."),
    "FS066": N_("Välj två frågor som finns i formuläret."),
    "FS110": N_("Ämnesraden måste stå på en rad."),
    "FS111": N_("Texten har %(length)s tecken, men får ha högst %(limit)s."),
    "FS112": N_("Välj två olika frågor: regeln jämför två svar med varandra."),
    "FS113": N_("Skriv meddelandet som visas vid den andra frågan när svaren inte följer regeln."),
    "ED002": N_("Nyckeln ”%(option)s” står på flera rader. Ge varje alternativ en egen nyckel."),
}


@dataclass
class EditorProblem:
    """A refusal the editor makes itself, before the loader sees the draft (it reads options as a mapping,
    where a key written twice would silently keep only its last line)."""

    code: str
    field_key: str
    at: str
    values: dict[str, Any] = field(default_factory=dict)
    line = None


def repeated_option(field_key: str, lines: str | None) -> EditorProblem | None:
    """Options written one a line as "key: label": a problem when a key is on more than one line."""
    keys = [line.partition(":")[0].strip() for line in (lines or "").splitlines() if line.strip()]
    twice = next((key for number, key in enumerate(keys) if key in keys[:number]), None)
    return EditorProblem("ED002", field_key, "choices", {"option": twice}) if twice else None


def said(problem, drafts_seen: Iterable[dict[str, Any]]) -> str | None:
    """The editor's words for a problem, or None when it has none. `drafts_seen` are the draft before and
    after the change (later wins): a question or option the change removed is still named by its text."""
    text = MESSAGES.get(problem.code)
    if text is None:
        return None
    labels, options = {}, {}
    for raw in drafts_seen:
        for spec in raw.get("fields") or []:
            if isinstance(spec, dict) and isinstance(spec.get("key"), str):
                labels[spec["key"]] = spec.get("label") or spec["key"]
                options.update({(spec["key"], key): label for key, label in drafts.options_of(spec).items()})
    values = getattr(problem, "values", {})
    other = values.get("other", "")
    option = values.get("value") or values.get("option") or ""
    named = {"question": labels.get(other, other), "option": options.get((other, option), option)}
    return gettext(text, **{**values, **named})
