"""Join codes, seat codes and the QR code that leads to a round.

The alphabet leaves out characters that are easily mistaken for each other on a projector or a printed
slip: 0/O/Q/D, 1/I/L/J, 2/Z, 5/S, 6/G, 8/B and U/V. What a person types is upper-cased and stripped of
spaces and dashes, so "abc 123" and "ABC-123" both find "ABC123".
"""

from __future__ import annotations

import re
import secrets

import segno
from markupsafe import Markup

from ..links import public_url

ALPHABET = "34679ACEFHKMNPRTWXY"
JOIN_CODE_LENGTH = 6  # 19**6: 47 million codes, read aloud in two groups of three
SEAT_CODE_LENGTH = 8  # 19**8: not guessable within the failed-attempt limit
_SEPARATORS = re.compile(r"[\s\-–_.]+")


def new_code(length: int) -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


def normalise(typed: str | None) -> str:
    """What a person typed, the way codes are stored."""
    return _SEPARATORS.sub("", typed or "").upper()


def is_well_formed(code: str, length: int) -> bool:
    return len(code) == length and all(c in ALPHABET for c in code)


def spaced(code: str) -> str:
    """A code shown for reading aloud: ABC 123, or ABCD EFGH for seats."""
    half = len(code) // 2
    return f"{code[:half]} {code[half:]}"


def join_url(code: str) -> str:
    """The address the QR code leads to: the round's vote page."""
    return public_url("live.vote", code=code)


def join_page_url() -> str:
    """The address to type by hand, shown beside the join code: where the code is entered."""
    return public_url("live.join")


def shown_url(url: str) -> str:
    """An address as read on a projector: no scheme, no trailing slash."""
    return re.sub(r"^https?://", "", url).rstrip("/")


def qr_svg(url: str, label: str) -> Markup:
    """The QR code as inline SVG, drawn here: no image service, scales with CSS, no style attribute."""
    svg = segno.make(url, error="m").svg_inline(scale=1, omitsize=True, svgclass="qr", lineclass="qr-line")
    # An image with a text alternative for screen readers.
    return Markup(svg.replace("<svg ", f'<svg role="img" aria-label="{Markup.escape(label)}" ', 1))
