"""The catalogue of definition errors (as pyxform names its errors): a code, and the message in English and
Swedish with {placeholders}. A DefinitionError carries the code and the values; its file, line and column are
where the YAML node it is about starts. Codes are stable: docs and people refer to them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Entry:
    code: str
    en: str
    sv: str


CATALOGUE: dict[str, Entry] = {
    entry.code: entry
    for entry in (
        # The file
        Entry("FS001", "cannot read the file: {error}", "filen går inte att läsa: {error}"),
        Entry("FS002", "the file must hold a mapping (title, fields, ...)",
              "filen måste innehålla en mappning (title, fields …)"),
        Entry("FS003", "the file name '{slug}' must be lower-case letters, digits and '-'",
              "filnamnet ”{slug}” får bara innehålla små bokstäver, siffror och ”-”"),
        Entry("FS004", "{where} holds the control character {character}", "{where} innehåller styrtecknet {character}"),
        Entry("FS005", "unknown setting(s): {names}", "okända inställningar: {names}"),
        # Values
        Entry("FS010", "'title' is missing", "”title” saknas"),
        Entry("FS011", "'fields' must be a non-empty list", "”fields” måste vara en lista med minst ett fält"),
        Entry("FS012", "'{name}' must be text", "”{name}” måste vara text"),
        Entry("FS013", "'{name}' must be true or false", "”{name}” måste vara true eller false"),
        Entry("FS014", "'{name}' must be a whole number, at least 1", "”{name}” måste vara ett heltal, minst 1"),
        Entry("FS015", "'{name}' must be a number", "”{name}” måste vara ett tal"),
        Entry("FS016", "'{name}' must be a list of field keys", "”{name}” måste vara en lista med fältnycklar"),
        Entry("FS017", "'{name}' must be a whole number from {low} to {high}",
              "”{name}” måste vara ett heltal från {low} till {high}"),
        # The form's settings
        Entry("FS020", "'{name}' is not a date (YYYY-MM-DD or YYYY-MM-DD HH:MM)",
              "”{name}” är inget datum (ÅÅÅÅ-MM-DD eller ÅÅÅÅ-MM-DD TT:MM)"),
        Entry("FS021", "'closes' must come after 'opens'", "”closes” måste komma efter ”opens”"),
        Entry("FS022", "'retention_days' must be a whole number of days, at least 1",
              "”retention_days” måste vara ett helt antal dagar, minst 1"),
        Entry("FS023", "'retention_action' must be 'anonymise' or 'delete'",
              "”retention_action” måste vara ”anonymise” eller ”delete”"),
        Entry("FS024", "'one_answer_per_organisation' needs a field of type {types}",
              "”one_answer_per_organisation” kräver ett fält av typen {types}"),
        Entry("FS025", "'live_only' needs a field of type {types} (what a live round asks)",
              "”live_only” kräver ett fält av typen {types} (det som en omröstning frågar)"),
        Entry("FS026", "'live_only' and 'open_link: true' contradict: a live-only form is not open at /f/<slug>",
              "”live_only” och ”open_link: true” motsäger varandra: ett formulär för omröstningar är inte öppet "
              "på /f/<slug>"),
        Entry("FS027", "'record: true' needs 'record_series': the series the registrar files the answers in",
              "”record: true” kräver ”record_series”: den serie som registratorn diarieför svaren i"),
        Entry("FS028", "'record_series' is set but 'record' is not true",
              "”record_series” är angiven men ”record” är inte true"),
        # Fields
        Entry("FS030", "each field must be a mapping with key, type and label",
              "varje fält måste vara en mappning med key, type och label"),
        Entry("FS031", "'key' must be lower-case letters, digits and '_'",
              "”key” får bara innehålla små bokstäver, siffror och ”_”"),
        Entry("FS032", "the key is reserved for the form itself", "nyckeln används av formuläret självt"),
        Entry("FS033", "the key is used by another field too", "nyckeln används också av ett annat fält"),
        Entry("FS034", "unknown field type '{type}' (known types: {known})",
              "okänd fälttyp ”{type}” (kända typer: {known})"),
        Entry("FS035", "'label' is missing", "”label” saknas"),
        Entry("FS036", "a {type} field needs 'choices'", "ett fält av typen {type} behöver ”choices”"),
        Entry("FS037", "a {type} field takes no 'choices'", "ett fält av typen {type} har inga ”choices”"),
        Entry("FS038", "'{name}' applies to {types} fields only", "”{name}” gäller bara fält av typen {types}"),
        # Options
        Entry("FS040", "'choices' must be a non-empty mapping of option key to label",
              "”choices” måste vara en mappning från alternativens nycklar till deras texter"),
        Entry("FS041", "option key '{option}' must be lower-case letters, digits and '_'",
              "alternativets nyckel ”{option}” får bara innehålla små bokstäver, siffror och ”_”"),
        Entry("FS042", "option '{option}' has no label", "alternativet ”{option}” saknar text"),
        Entry("FS043", "'choices_en' must be a mapping of option key to English label",
              "”choices_en” måste vara en mappning från alternativens nycklar till engelska texter"),
        Entry("FS044", "'choices_en': '{option}' is not an option of this field",
              "”choices_en”: ”{option}” är inget alternativ i det här fältet"),
        Entry("FS045", "'choices_en': option '{option}' has no label",
              "”choices_en”: alternativet ”{option}” saknar text"),
        # A type's settings together
        Entry("FS050", "'min' is larger than 'max'", "”min” är större än ”max”"),
        Entry("FS051", "'max' is larger than the number of choices", "”max” är större än antalet alternativ"),
        Entry("FS052", "a ranking field needs 'rank' (how many options to rank)",
              "ett fält av typen ranking behöver ”rank” (hur många alternativ som ska rangordnas)"),
        Entry("FS053", "'rank' is larger than the number of choices", "”rank” är större än antalet alternativ"),
        Entry("FS054", "'min_value' is larger than 'max_value'", "”min_value” är större än ”max_value”"),
        Entry("FS055", "person '{other}' must name another field of type {types}",
              "person ”{other}” måste vara ett annat fält av typen {types}"),
        Entry("FS056", "type_field '{other}' must name a choice field",
              "type_field ”{other}” måste vara ett fält av typen choice"),
        # Mails and rules
        Entry("FS060", "'mails' must be a list", "”mails” måste vara en lista"),
        Entry("FS061", "each mail needs 'template' and 'to' (and may have 'images', 'subject' and 'message')",
              "varje mejl behöver ”template” och ”to” (och kan ha ”images”, ”subject” och ”message”)"),
        Entry("FS062", "mail template '{template}' must be a plain name",
              "mejlmallen ”{template}” måste vara ett enkelt namn"),
        Entry("FS068", "mail template '{template}' does not exist (there is no templates/mail/{template}.txt)",
              "mejlmallen ”{template}” finns inte (det finns ingen templates/mail/{template}.txt)"),
        Entry("FS063", "mail '{template}': 'to' must be an email field or 'secretariat'",
              "mejlet ”{template}”: ”to” måste vara ett e-postfält eller ”secretariat”"),
        Entry("FS067", "mail '{template}': 'images' must be a list of: {names}",
              "mejlet ”{template}”: ”images” måste vara en lista med några av: {names}"),
        Entry("FS110", "'{name}' must be on one line", "”{name}” måste stå på en rad"),
        Entry("FS111", "'{name}' is {length} characters long; at most {limit} are allowed",
              "”{name}” har {length} tecken, men får ha högst {limit}"),
        Entry("FS064", "'rules' must be a list", "”rules” måste vara en lista"),
        Entry("FS065", "each rule needs exactly one of 'different' or 'same' (two field keys), and 'message'",
              "varje regel behöver exakt en av ”different” och ”same” (två fältnycklar) och ”message”"),
        Entry("FS066", "rule '{kind}': {pair} must name two fields of this form",
              "regeln ”{kind}”: {pair} måste vara två fält i formuläret"),
        Entry("FS112", "rule '{kind}' names '{key}' twice: it compares two different fields",
              "regeln ”{kind}” anger ”{key}” två gånger: den jämför två olika fält"),
        Entry("FS113", "rule '{kind}' needs a 'message', shown next to the second field",
              "regeln ”{kind}” behöver ett ”message”, som visas vid det andra fältet"),
        # Embedding and the newsletter
        Entry("FS070", "'embed' must be a mapping with 'allow' (a list of sites)",
              "”embed” måste vara en mappning med ”allow” (en lista med webbplatser)"),
        Entry("FS071", "'embed: allow' must be a non-empty list of sites",
              "”embed: allow” måste vara en lista med minst en webbplats"),
        Entry("FS072", "'embed: allow': '{site}' is not a site address like https://www.example.org",
              "”embed: allow”: ”{site}” är ingen webbadress som https://www.example.org"),
        Entry("FS080", "'newsletter' must be a mapping with at least 'email' (an email field)",
              "”newsletter” måste vara en mappning med minst ”email” (ett e-postfält)"),
        Entry("FS081", "'newsletter': unknown setting(s): {names}", "”newsletter”: okända inställningar: {names}"),
        Entry("FS082", "'newsletter': '{role}' must name a field of this form, not {given}",
              "”newsletter”: ”{role}” måste vara ett fält i formuläret, inte {given}"),
        Entry("FS083", "'newsletter': '{role}' must name a {allowed} field, not a {type} field",
              "”newsletter”: ”{role}” måste vara ett fält av typen {allowed}, inte {type}"),
        Entry("FS084", "'newsletter: sign_up: true' is set in {first} too",
              "”newsletter: sign_up: true” står också i {first}"),
        # The roster (staff/roster.py)
        Entry("FS090", "'roster' must be a mapping with 'people' (a non-empty list)",
              "”roster” måste vara en mappning med ”people” (en lista med minst en person)"),
        Entry("FS091", "'roster': person {index} must be a mapping (role, name, email, title, phone)",
              "”roster”: person {index} måste vara en mappning (role, name, email, title, phone)"),
        Entry("FS092", "'roster': person {index}: unknown setting(s): {names}",
              "”roster”: person {index}: okända inställningar: {names}"),
        Entry("FS093", "'roster': person {index} needs 'role', e.g. Ordinarie ledamot",
              "”roster”: person {index} behöver ”role”, till exempel Ordinarie ledamot"),
        Entry("FS094", "'roster': person {index}: '{part}' must name a field of type {allowed}, not {given}",
              "”roster”: person {index}: ”{part}” måste vara ett fält av typen {allowed}, inte {given}"),
        Entry("FS095", "'roster': 'other' must name a field of this form, not {given}",
              "”roster”: ”other” måste vara ett fält i formuläret, inte {given}"),
        # Conditional questions (show_if)
        Entry("FS100", "'show_if' must be a mapping with 'field' (a field key) and 'values' (a list of "
              "its option keys)",
              "”show_if” måste vara en mappning med ”field” (ett fälts nyckel) och ”values” (en lista med dess "
              "alternativs nycklar)"),
        Entry("FS101", "'show_if': '{other}' is not a field of this form",
              "”show_if”: ”{other}” är inget fält i formuläret"),
        Entry("FS102", "'show_if': '{other}' must come before this field (or is this field itself)",
              "”show_if”: ”{other}” måste komma före det här fältet (eller är det här fältet självt)"),
        Entry("FS103", "'show_if': '{other}' is a {type} field, which has no options",
              "”show_if”: ”{other}” är ett fält av typen {type}, som inte har några alternativ"),
        Entry("FS104", "'show_if': '{value}' is not an option of '{other}' (its options: {known})",
              "”show_if”: ”{value}” är inget alternativ i ”{other}” (dess alternativ: {known})"),
    )
}  # fmt: skip


def message(code: str, language: str = "en", **values) -> str:
    """The catalogue's message for `code` in `language` ("en" or "sv"), with the values filled in."""
    entry = CATALOGUE[code]
    return (entry.sv if language == "sv" else entry.en).format(**values)
