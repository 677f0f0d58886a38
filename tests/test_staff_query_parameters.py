"""Staff lists keep their filters and page in their links, and a crafted query parameter changes nothing
else: it never reaches url_for as an argument (where ?slug= or ?endpoint= gave 500s, and ?_external=1
with ?_scheme= made links to elsewhere)."""

from __future__ import annotations

import re

import pytest
from helpers import open_to_all, submit

from formsvc.staff import responses, results

# Bad input: query parameters named like url_for's own arguments and the views' path parameters.
CRAFTED = "slug=x&key=x&endpoint=x&_external=1&_scheme=javascript&_anchor=x&_method=POST"


@pytest.fixture
def two_answers(app, client, monkeypatch):
    """Two answers with a comment, and lists one answer a page long, so every list has a next page."""
    open_to_all(app)
    for ranking, comment in ((["folkhalsa", "barnratt", "demokrati"], "Först"),
                             (["demokrati", "folkhalsa", "barnratt"], "Sedan")):
        answer = {"prioriteringar": ranking, "motivering": comment}
        assert submit(client, "prioritering", answer).status_code == 303
    monkeypatch.setattr(responses, "PER_PAGE", 1)
    monkeypatch.setattr(results, "TEXTS_PER_PAGE", 1)


def links(page) -> list[str]:
    return [href.replace("&amp;", "&") for href in re.findall(r'href="([^"]+)"', page.get_data(as_text=True))]


@pytest.mark.parametrize("path", [
    "/staff/forms/prioritering/results",
    "/staff/forms/prioritering/results/motivering",
    "/staff/forms/prioritering/responses",
])  # fmt: skip
def test_crafted_query_parameters_change_no_link(two_answers, staff_client, path):
    page = staff_client.get(f"{path}?{CRAFTED}")
    assert page.status_code == 200
    found = links(page)
    assert not [href for href in found if href.startswith(("javascript:", "//", "http"))], found
    # The page's own links keep the crafted parameters in their query string only, as text.
    own = [href for href in found if href.startswith("/staff/forms/prioritering/") and "_scheme=javascript" in href]
    assert own and all(href.split("?")[0].startswith("/staff/forms/prioritering/") for href in own)


def test_the_next_page_keeps_the_filters(two_answers, staff_client):
    page = staff_client.get("/staff/forms/prioritering/responses?page=1&fokus=x")
    [next_page] = [href for href in links(page) if "page=2" in href]
    assert next_page.startswith("/staff/forms/prioritering/responses?") and "fokus=x" in next_page
    texts = staff_client.get("/staff/forms/prioritering/results/motivering?page=1")
    [next_texts] = [href for href in links(texts) if "page=2" in href]
    assert next_texts.startswith("/staff/forms/prioritering/results/motivering?")
