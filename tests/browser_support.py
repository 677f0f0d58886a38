"""What the browser tests need: the app on a loopback port, Chromium, axe-core, a keyboard-only filler.

Kept apart from test_browser.py so that file reads as the list of pages and the flows people follow.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from axe_playwright_python.base import AXE_SCRIPT, AxeResults
from werkzeug.serving import make_server

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
AXE_OPTIONS = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
    "resultTypes": ["violations"],
}
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}  # a common phone (iPhone 12 to 15) in CSS px
ZOOM_400 = {"width": 320, "height": 640}  # 1280 CSS px at 400 % zoom
MAX_TABS = 200
SCREENSHOTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "screenshots"


class LiveServer:
    """The app served by werkzeug on 127.0.0.1 in a thread, on a free port."""

    def __init__(self, app):
        self.app = app
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, name="live-server", daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


@dataclass
class BrowserLog:
    """What a browser context did that a page must never do: leave the origin, or log an error."""

    origin: str
    foreign: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def watch(self, context) -> None:
        context.on("request", self._request)
        context.on("response", self._response)
        context.on("page", self._page)
        for page in context.pages:
            self._page(page)

    def _request(self, request) -> None:
        parts = urlsplit(request.url)
        if parts.scheme in ("data", "blob"):  # made in the page, nothing leaves it
            return
        if f"{parts.scheme}://{parts.netloc}" != self.origin:
            self.foreign.append(request.url)

    def _response(self, response) -> None:
        # A page's own status is checked by the tests; a stylesheet or script that fails is an error here.
        if response.status >= 400 and not response.request.is_navigation_request():
            self.errors.append(f"{response.status} for {response.url}")

    def _page(self, page) -> None:
        page.on("console", lambda message: self._console(message))
        page.on("pageerror", lambda error: self.errors.append(f"JavaScript error: {error}"))

    def _console(self, message) -> None:
        # Chromium logs every error status as a console error too; statuses are checked above and in the tests.
        if message.type == "error" and "the server responded with a status of" not in message.text:
            self.errors.append(f"console: {message.text} ({message.location.get('url')})")

    def take(self) -> tuple[list[str], list[str]]:
        """What happened since the last call, and forget it."""
        foreign, errors = self.foreign[:], self.errors[:]
        self.foreign.clear()
        self.errors.clear()
        return foreign, errors


def axe_violations(page) -> str:
    """axe-core's WCAG 2.1 A and AA violations on the page as it is now; empty when there are none.

    axe-core is the copy bundled with axe-playwright-python (nothing is fetched at run time), put into
    the page once per document.
    """
    if not page.evaluate("() => 'axe' in window"):
        page.evaluate(AXE_SCRIPT)
    results = AxeResults(page.evaluate("options => axe.run(document, options)", AXE_OPTIONS))
    return results.generate_report() if results.violations_count else ""


def horizontal_overflow(page) -> int:
    """How many CSS pixels the page is wider than the window (0: no horizontal scrolling). A wide table
    scrolling in its own box does not count: only the page's own scrolling does."""
    return page.evaluate("document.scrollingElement.scrollWidth - document.scrollingElement.clientWidth")


def screenshot(page, name: str, size: str, part=None) -> None:
    """The whole page, or only `part` (a locator): `make docs-images` copies some into docs/images/."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}-{size}.png"
    if part is None:
        page.screenshot(path=path, full_page=True)
    else:
        part.screenshot(path=path)


_FOCUS_SHOWN = """() => {
  const e = document.activeElement;
  if (!e || e === document.body) return null;
  const style = getComputedStyle(e);
  const box = e.getBoundingClientRect();
  return {
    what: e.outerHTML.slice(0, 80),
    outlined: style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2,
    onScreen: box.width > 0 && box.height > 0 && box.left >= 0 && box.right <= window.innerWidth,
  };
}"""


def focus_not_shown(page) -> list[str]:
    """Tab through the whole page; the elements that got focus without a visible focus ring on screen."""
    page.locator("body").focus()
    hidden, seen = [], set()
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        focused = page.evaluate(_FOCUS_SHOWN)
        if focused is None or focused["what"] in seen:
            break
        seen.add(focused["what"])
        if not (focused["outlined"] and focused["onScreen"]):
            hidden.append(focused["what"])
    return hidden


_FOCUSED = """() => {
  const e = document.activeElement;
  if (!e || e === document.body) return null;
  const group = e.type === 'radio'
    ? [...document.querySelectorAll(`input[type=radio][name="${e.name}"]`)] : [];
  return {
    tag: e.tagName.toLowerCase(), type: e.type || '', name: e.name || '', value: e.value,
    checked: !!e.checked, id: e.id,
    radios: group.map(r => r.value), checkedRadio: group.findIndex(r => r.checked),
    options: e.tagName === 'SELECT' ? [...e.options].map(o => o.value) : [],
    selectedIndex: e.tagName === 'SELECT' ? e.selectedIndex : -1,
  };
}"""
def fill_with_keyboard(page, answers: dict[str, str | list[str]], submit_label: str) -> None:
    """Fill the form and send it with the keyboard only: Tab, typing, Space, arrow keys, Enter.

    Walks the focus order from the top of the page, so a field that cannot be reached by Tab is never
    filled and the test that checks the stored answer fails. Selects of a ranking take the answers in order.
    """
    page.locator("body").focus()
    ranking_left = {name: list(values) for name, values in answers.items() if isinstance(values, list)}
    done_radio_groups: set[str] = set()
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        focused = page.evaluate(_FOCUSED)
        if focused is None:
            continue
        wanted = answers.get(focused["name"])
        if focused["tag"] == "button" or focused["type"] == "submit":
            if page.evaluate("document.activeElement.textContent.trim()") == submit_label:
                page.keyboard.press("Enter")
                return
        elif wanted is None:
            continue
        elif focused["tag"] == "textarea" or focused["type"] in ("text", "email", "tel", "search", "number"):
            page.keyboard.press("Control+A")
            page.keyboard.type(wanted)
        elif focused["type"] == "checkbox":
            picked = focused["value"] in wanted if isinstance(wanted, list) else bool(wanted)
            if picked != focused["checked"]:
                page.keyboard.press("Space")
        elif focused["type"] == "radio" and focused["name"] not in done_radio_groups:
            done_radio_groups.add(focused["name"])
            _pick_radio(page, focused, wanted)
        elif focused["tag"] == "select":
            value = ranking_left[focused["name"]].pop(0) if focused["name"] in ranking_left else wanted
            steps = focused["options"].index(value) - focused["selectedIndex"]
            for _ in range(abs(steps)):
                page.keyboard.press("ArrowDown" if steps > 0 else "ArrowUp")
    raise AssertionError(f"the button {submit_label!r} was never reached with Tab")


def _pick_radio(page, focused: dict, wanted: str | int) -> None:
    """Tab lands on the checked radio of a group, or its first; arrow keys move and check. A number (a scale's
    rating, stored as a number) picks the radio of that value."""
    here = focused["radios"].index(focused["value"])
    target = focused["radios"].index(str(wanted))
    if here == target and not focused["checked"]:
        page.keyboard.press("Space")
    for _ in range(abs(target - here)):
        page.keyboard.press("ArrowDown" if target > here else "ArrowUp")
