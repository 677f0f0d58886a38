"""The service's texts read as a Swedish authority writes (Myndigheternas skrivregler), and the English
catalogue is complete.

Reads every Swedish text a visitor or recipient sees: the running text of every template (tags, Jinja code
and comments taken out first), the strings wrapped in _()/gettext in templates and Python, and the texts of
the form definitions. Each failure names the file and line, so a new text that trips a rule is easy to find.
What it refuses (the bad input it looks for):
- double punctuation ".:", "?:" and "!:";
- straight double quotes in running text (Swedish uses ”…”);
- "länsstyrelsen" in lower case (the authority's name is Länsstyrelsen Västmanland), and the council named
  otherwise than Samverkansrådet för social hållbarhet ("rådet för social hållbarhet", "samverkansrådet");
- "du" and "ni" in one form's flow: its definition and the mails it sends (FLOW_MAILS);
- an English translation that is missing or empty.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from html import unescape
from pathlib import Path

import lxml.html
import pytest
import yaml
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from helpers import csrf_token

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "templates"
FORMS = ROOT / "forms"
ENGLISH_PO = ROOT / "formsvc" / "translations" / "en" / "LC_MESSAGES" / "messages.po"

# Keep line numbers: what is taken out is replaced by its own line breaks.
JINJA = re.compile(r"\{#.*?#\}|\{\{.*?\}\}|\{%.*?%\}", re.S)
HTML = re.compile(r"<!--.*?-->|<(script|style)\b.*?</\1>|<[^>]*>", re.S | re.I)
# An attribute a macro writes into a tag from outside it (e.g. {% if ... %} lang="sv"{% endif %}).
ATTRIBUTE = re.compile(r'(?<=\s)[a-z][a-z-]*="[^"\n]*"')

DOUBLE_PUNCTUATION = re.compile(r"[.?!]:")
NAME_RULES = (
    (re.compile(r"\blänsstyrelsens?\b"), "the authority's name takes a capital: Länsstyrelsen Västmanland"),
    (re.compile(r"\bLänsstyrelsen västmanland"), "the authority's name: Länsstyrelsen Västmanland"),
    (re.compile(r"\b[Rr]ådet för social hållbarhet"), "the council's name: Samverkansrådet för social hållbarhet"),
    (re.compile(r"\bsamverkansrådet\b"), "the council's name takes a capital: Samverkansrådet"),
)
DU = re.compile(r"\b(du|dig|din|ditt|dina)\b", re.I)
NI = re.compile(r"\b(ni|er|ert|era)\b", re.I)

# Form -> the mail templates its flow sends besides those in its definition's `mails:` (newsletter sign-up,
# invitations and reminders). Every mail also carries _answers.txt (receipts) or _footer.txt (all).
FLOW_MAILS = {
    "nyhetsbrev": ["nyhetsbrev_bekrafta", "nyhetsbrev_valkommen"],
    "nominering": ["inbjudan", "paminnelse"],
}
SHARED_MAIL_PARTS = ["_answers", "_footer"]
# Definition keys whose values a person reads in Swedish (the *_en keys are the English versions).
TEXT_KEYS = {"title", "intro", "thanks", "submit_label", "purpose", "label", "help", "message", "subject"}


def _blank(match: re.Match) -> str:
    return "\n" * match.group(0).count("\n")


def running_text(path: Path) -> Iterator[tuple[int, str]]:
    """(line number, text) of what a template shows as it stands: Jinja code, comments and tags removed."""
    text = JINJA.sub(_blank, path.read_text(encoding="utf-8"))
    if path.suffix == ".html":
        text = unescape(ATTRIBUTE.sub("", HTML.sub(_blank, text)))
    for number, line in enumerate(text.split("\n"), start=1):
        if line.strip():
            yield number, line


def template_texts() -> Iterator[tuple[str, str]]:
    """(file:line, text) of every template's running text."""
    for path in sorted(TEMPLATES.rglob("*")):
        if path.suffix in {".html", ".txt"}:
            for number, line in running_text(path):
                yield f"{path.relative_to(ROOT)}:{number}", line


def catalogue_texts() -> Iterator[tuple[str, str]]:
    """(file:line, msgid) of every string wrapped in _(), gettext, ngettext, lazy_gettext or t()."""
    with (ROOT / "babel.cfg").open() as config:
        method_map, options_map = parse_mapping_cfg(config)
    keywords = {**DEFAULT_KEYWORDS, "lazy_gettext": None, "t": None}
    for filename, line, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=keywords
    ):
        if filename.startswith((".venv", "build")):
            continue
        for text in message if isinstance(message, tuple) else (message,):
            if text:
                yield f"{filename}:{line}", text


def _definition_nodes(node: yaml.Node, in_text: bool = False) -> Iterator[tuple[int, str]]:
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            name = key.value if isinstance(key, yaml.ScalarNode) else ""
            yield from _definition_nodes(value, in_text=name in TEXT_KEYS or name == "choices")
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            yield from _definition_nodes(item)
    elif isinstance(node, yaml.ScalarNode) and in_text:
        for offset, line in enumerate(node.value.split("\n")):
            # A block scalar (|) starts on the line after its key.
            yield node.start_mark.line + 1 + offset + (1 if node.style == "|" else 0), line


def definition_texts(path: Path) -> Iterator[tuple[str, str]]:
    """(file:line, text) of a form definition's Swedish texts (title, intro, labels, help, options, ...)."""
    root = yaml.compose(path.read_text(encoding="utf-8"))
    for number, line in _definition_nodes(root):
        yield f"{path.relative_to(ROOT)}:{number}", line


def every_swedish_text() -> list[tuple[str, str]]:
    texts = [*template_texts(), *catalogue_texts()]
    for path in sorted(FORMS.glob("*.yaml")):
        texts.extend(definition_texts(path))
    return texts


def _report(hits: list[str], rule: str) -> str:
    return f"{len(hits)} text(s) break the rule: {rule}\n" + "\n".join(hits)


def test_no_double_punctuation():
    hits = [f"{where}: {text.strip()}" for where, text in every_swedish_text() if DOUBLE_PUNCTUATION.search(text)]
    assert not hits, _report(hits, 'no ".:" "?:" "!:" (a label that ends in a question mark needs no colon)')


def test_no_straight_double_quotes_in_running_text():
    hits = [f"{where}: {text.strip()}" for where, text in every_swedish_text() if '"' in text]
    assert not hits, _report(hits, "Swedish quotation marks ”…”, not straight quotes")


def test_names_are_written_as_names():
    hits = [
        f"{where}: {text.strip()} ({why})"
        for where, text in every_swedish_text()
        for pattern, why in NAME_RULES
        if pattern.search(text)
    ]
    assert not hits, _report(hits, "names with capitals, as in the source documents")


def flow_texts(slug: str) -> list[tuple[str, str]]:
    """A form's flow: its definition's texts and the mails it sends, with the parts every mail includes."""
    path = FORMS / f"{slug}.yaml"
    definition = yaml.safe_load(path.read_text(encoding="utf-8"))
    mails = [m["template"] for m in definition.get("mails") or []] + FLOW_MAILS.get(slug, []) + SHARED_MAIL_PARTS
    texts = list(definition_texts(path))
    for name in dict.fromkeys(mails):
        mail = TEMPLATES / "mail" / f"{name}.txt"
        texts.extend((f"{mail.relative_to(ROOT)}:{number}", line) for number, line in running_text(mail))
    return texts


@pytest.mark.parametrize("slug", sorted(p.stem for p in FORMS.glob("*.yaml")))
def test_one_form_speaks_to_its_reader_one_way(slug):
    """ "ni" to an organisation (anslutning, nominering), "du" to a person (nyhetsbrev, prioritering): never
    both in one form and the mails it sends."""
    texts = flow_texts(slug)
    du = [f"{where}: {DU.search(text).group(0)!r} in {text.strip()}" for where, text in texts if DU.search(text)]
    ni = [f"{where}: {NI.search(text).group(0)!r} in {text.strip()}" for where, text in texts if NI.search(text)]
    assert not (du and ni), (
        f"forms/{slug}.yaml and its mails say both du and ni; choose one.\ndu:\n"
        + "\n".join(du)
        + "\nni:\n"
        + "\n".join(ni)
    )


def test_the_english_catalogue_has_no_empty_translation():
    with ENGLISH_PO.open("rb") as po:
        catalogue = read_po(po)
    empty = [
        f"{ENGLISH_PO.relative_to(ROOT)}:{message.lineno}: {message.id!r}"
        for message in catalogue
        if message.id and not all(message.string if isinstance(message.string, tuple) else (message.string,))
    ]
    assert not empty, _report(empty, "every msgid has an English msgstr")


def test_every_wrapped_text_has_an_english_translation():
    """A string wrapped in _() that is not in messages.po shows in Swedish on English pages."""
    with ENGLISH_PO.open("rb") as po:
        catalogue = read_po(po)
    missing = [
        f"{where}: {text!r}"
        for where, text in catalogue_texts()
        if (message := catalogue.get(text)) is None and not any(
            isinstance(m.id, tuple) and text in m.id for m in catalogue
        )
        or (message is not None and not message.string)
    ]
    assert not missing, _report(missing, "append the English translation to messages.po (then pybabel compile)")


def test_the_checks_find_what_they_look_for(tmp_path):
    """The readers themselves: quotes in an attribute or in Jinja code are not running text; in the text
    they are. A block scalar's lines are numbered as in the file."""
    template = tmp_path / "t.html"
    template.write_text('<p class="x">{{ _("a") }}</p>\n<p>Hon sa "hej".:</p>\n{# "no" #}\n', encoding="utf-8")
    lines = dict(running_text(template))
    assert 1 not in lines and lines[2] == 'Hon sa "hej".:' and 3 not in lines
    definition = tmp_path / "f.yaml"
    definition.write_text("title: T\nintro: |\n  rad ett\n  rad två\nfields: []\n", encoding="utf-8")
    root = yaml.compose(definition.read_text(encoding="utf-8"))
    assert dict(_definition_nodes(root)) == {1: "T", 3: "rad ett", 4: "rad två", 5: ""}


def test_a_question_that_ends_in_a_question_mark_gets_no_colon_after_it(client):
    """Rendered, not only written: the error summary put "label: message" together, so a required question
    ending in "?" read "…fokusera på?: Välj…". Tried: the joining form sent empty, in Swedish and English."""
    for language in ("sv", "en"):
        client.get(f"/f/anslutning?lang={language}")
        page = client.post("/f/anslutning", data={"csrf_token": csrf_token(client, "/f/anslutning")})
        assert page.status_code == 422
        text = " ".join(lxml.html.fromstring(page.get_data(as_text=True)).text_content().split())
        assert not DOUBLE_PUNCTUATION.search(text), DOUBLE_PUNCTUATION.search(text).group(0)
        assert "?" in text  # the question is there, with its own question mark


def test_mail_sentences_are_not_broken_across_lines():
    """A mail's paragraph is one line (mail programs wrap it; the HTML part keeps a line break as <br>, which
    on a phone breaks a sentence in odd places). Tried: a line ending mid-sentence with the next one going on
    in lower case."""
    hits = []
    for path in sorted((TEMPLATES / "mail").glob("*.txt")):
        lines = dict(running_text(path))
        for number, line in lines.items():
            following = lines.get(number + 1, "")
            if re.search(r"[a-zåäö,]$", line.rstrip()) and re.match(r"[a-zåäö]", following.lstrip()):
                hits.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()} / {following.strip()}")
    assert not hits, _report(hits, "one line per paragraph in mail templates")


def test_dates_go_through_the_one_date_filter():
    """Pages and mails write dates with `datum` (formsvc/i18n.py), so every date reads "den 1 december 2026
    kl. 19.28". Tried: Flask-Babel's own datetimeformat/dateformat/timeformat filters and strftime."""
    other = re.compile(r"\|\s*(datetimeformat|dateformat|timeformat)\b|\.strftime\(")
    hits = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in sorted(TEMPLATES.rglob("*"))
        if path.suffix in {".html", ".txt"}
        for number, line in enumerate(path.read_text(encoding="utf-8").split("\n"), start=1)
        if other.search(line)
    ]
    assert not hits, _report(hits, "dates in templates through | datum (time=False, short=True as needed)")
