"""Results per form: the numbers staff see match counts made independently here, filters and ties included."""

from __future__ import annotations

import random
import re
import shutil
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from helpers import open_to_all, submit, text_of

from formsvc.aggregate import (
    Filters,
    Tally,
    current_responses,
    current_tally,
    form_results,
    ranking,
    tally,
)
from formsvc.answers import store_answer
from formsvc.catalog import catalog
from formsvc.config import resource_dir
from formsvc.definitions import Choice, FieldDefinition, parse_definition
from formsvc.extensions import db
from formsvc.models import AnswerCount, AnswerValue, Organisation, Response, utcnow
from formsvc.retention import purge

TYPES = ["kommun", "region", "myndighet", "naringsliv", "civilsamhalle", "annan"]
FOCUS = ["makt", "ekonomi", "utbildning", "omsorg", "halsa", "vald"]


def joining(n: int, rng: random.Random) -> dict:
    """A random but valid answer to `anslutning` from an organisation not in the register."""
    return {
        "organisation": f"Förening nummer {n}",
        "organisationstyp": rng.choice(TYPES),
        "kontaktperson": f"Person {n}",
        "epost": f"person{n}@example.org",
        "fokusomraden": rng.sample(FOCUS, rng.randint(1, 4)),
        "nyhetsbrev": rng.choice(["ja", "nej", ""]),
        "samtycke": "y",
    }


def row_after(label: str, page: str) -> list[str]:
    """The numbers after an option's label in the page text: count and share."""
    match = re.search(re.escape(label) + r" (\d+) (\d+) %", page)
    assert match, f"{label!r} not shown with its numbers"
    return [match.group(1), match.group(2)]


def share(count: int, base: int) -> str:
    return str(round(100 * count / base)) if base else "0"


@pytest.fixture
def seeded(app, client):
    """25 answers to `anslutning` through the public form; returns what was sent."""
    rng = random.Random(7)
    sent = [joining(n, rng) for n in range(25)]
    for answers in sent:
        assert submit(client, "anslutning", answers).status_code == 303
    return sent


def test_results_match_counts_made_in_the_test(app, staff_client, seeded):
    page = text_of(staff_client.get("/staff/forms/anslutning/results"))
    assert "25 aktuella svar" in page
    kinds = Counter(a["organisationstyp"] for a in seeded)
    labels = {c.key: c.label for c in catalog_in(app).field("organisationstyp").choices}
    for key, label in labels.items():
        assert row_after(label, page) == [str(kinds[key]), share(kinds[key], 25)]
    focus = Counter(key for a in seeded for key in a["fokusomraden"])
    for choice in catalog_in(app).field("fokusomraden").choices:
        assert row_after(choice.label, page) == [str(focus[choice.key]), share(focus[choice.key], 25)]
    news = Counter(a["nyhetsbrev"] for a in seeded if a["nyhetsbrev"])
    answered = sum(news.values())
    assert f"{answered} har svarat på frågan" in page
    section = page[page.index("få nyhetsbrevet") :]
    assert row_after("Ja", section) == [str(news["ja"]), share(news["ja"], answered)]
    assert row_after("Nej", section) == [str(news["nej"]), share(news["nej"], answered)]
    # Free text: the newest answers, with a way to all of them.
    assert "Person 24" in page and "Alla svar på frågan" in page


def catalog_in(app):
    with app.app_context():
        return catalog().get("anslutning")


def test_bars_are_drawn_without_inline_styles(staff_client, seeded):
    html = staff_client.get("/staff/forms/anslutning/results").get_data(as_text=True)
    assert "style=" not in html
    bars = re.findall(r'<rect class="bar-value" width="([\d.]+)"', html)
    assert bars and all(0 <= float(width) <= 100 for width in bars)
    assert 'aria-hidden="true"' in html  # the bar repeats the number, so a screen reader skips it


def test_replaced_answers_are_not_counted(app, staff_client, seeded):
    with app.app_context():
        first = db.session.scalars(sa.select(Response).order_by(Response.id).limit(3)).all()
        replaced = Counter(key for r in first for key in r.answers["fokusomraden"])
        for response in first:
            response.is_current = False
        db.session.commit()
        definition = catalog().get("anslutning")
        results = form_results(definition)
    assert results.responses == 22
    focus = Counter(key for a in seeded for key in a["fokusomraden"]) - replaced
    counted = {o.key: o.count for q in results.questions if q.spec.key == "fokusomraden" for o in q.options}
    assert counted == {key: focus[key] for key in FOCUS}
    assert "22 aktuella svar" in text_of(staff_client.get("/staff/forms/anslutning/results"))
    dashboard = staff_client.get("/staff/").get_data(as_text=True)
    row = re.search(r'href="/staff/forms/anslutning/results".*?</tr>', dashboard, re.S).group(0)
    assert re.findall(r'<td class="number">(\d+)</td>', row) == ["22"]  # the overview counts the same


def test_the_fast_count_equals_the_filtered_one(app, seeded):
    """With no filter the count comes from the index less replaced answers; both ways must agree."""
    with app.app_context():
        for response in db.session.scalars(sa.select(Response).where(Response.id % 4 == 0)):
            response.is_current = False
        db.session.commit()
        definition = catalog().get("anslutning")
        keys = ["organisationstyp", "fokusomraden", "nyhetsbrev"]
        fast = current_tally("anslutning", keys)
        slow = tally("anslutning", current_responses(definition), keys)
    assert {k: v for k, v in fast.items() if v.count} == slow


VOTE_FORM = """
title: Omröstning
one_answer_per_organisation: true
retention_days: 10
retention_action: delete
fields:
  - {key: organisation, type: organisation, label: Organisation}
  - {key: mat, type: choice, label: Mat, choices: {kott: Kött, vego: Vegetariskt}}
  - {key: teman, type: multichoice, label: Teman, choices: {a: A, b: B, c: C}}
  - {key: ordning, type: ranking, label: Ordning, rank: 2, choices: {a: A, b: B, c: C}}
"""


def counted_from_scratch() -> dict:
    """(form, question, option) -> (count, place sum) over every value of every current answer."""
    rows = db.session.execute(
        sa.select(
            AnswerValue.form_slug, AnswerValue.field, AnswerValue.value,
            sa.func.count(), sa.func.coalesce(sa.func.sum(AnswerValue.position), 0),
        )
        .join(Response, Response.id == AnswerValue.response_id)
        .where(Response.is_current)
        .group_by(AnswerValue.form_slug, AnswerValue.field, AnswerValue.value)
    )  # fmt: skip
    return {(slug, key, value): (count, places) for slug, key, value, count, places in rows}


def assert_counts_kept():
    kept = {
        (row.form_slug, row.field, row.value): (row.count, row.place_sum)
        for row in db.session.scalars(sa.select(AnswerCount))
    }
    assert all(count >= 0 for count, _ in kept.values())
    assert {key: numbers for key, numbers in kept.items() if numbers[0]} == counted_from_scratch()


def test_the_counts_kept_as_answers_arrive_equal_a_fresh_count(make_app, tmp_path):
    """Stores, replacements, changes of is_current, deletions (one, in bulk, of values) and purges."""
    forms = tmp_path / "forms"
    shutil.copytree(resource_dir("forms"), forms)
    (forms / "omrostning.yaml").write_text(VOTE_FORM, encoding="utf-8")
    app = make_app(FORMSVC_FORMS_DIR=str(forms))
    rng = random.Random(11)
    with app.test_request_context():
        vote, joining_form = catalog().get("omrostning"), catalog().get("anslutning")
        register = [Organisation(name=f"Förening {n}", name_key=f"förening {n}", type="annan") for n in range(4)]
        db.session.add_all(register)
        db.session.commit()
        for n in range(40):  # every organisation's answer replaced nine times
            organisation = register[n % 4]
            answers = {"organisation": organisation.name, "mat": rng.choice(["kott", "vego"]),
                       "teman": rng.sample("abc", rng.randint(0, 3)), "ordning": rng.sample("abc", 2)}  # fmt: skip
            store_answer(vote, answers, f"vote-{n}", organisation)
            store_answer(joining_form, joining(n, rng), f"join-{n}")
        assert_counts_kept()

        joined = db.session.scalars(sa.select(Response).filter_by(form_slug="anslutning").order_by(Response.id)).all()
        for response in joined[:5]:
            response.is_current = False
        db.session.commit()
        joined[2].is_current = True
        db.session.commit()
        assert_counts_kept()

        db.session.delete(joined[0])  # not current
        db.session.delete(joined[10])  # current
        db.session.commit()
        db.session.execute(sa.delete(Response).where(Response.form_slug == "anslutning", Response.id % 3 == 0))
        db.session.commit()
        assert_counts_kept()

        of_current = sa.select(Response.id).where(Response.form_slug == "anslutning", Response.is_current)
        value = db.session.scalar(sa.select(AnswerValue).where(AnswerValue.response_id.in_(of_current)).limit(1))
        value.value = "ny"
        db.session.commit()
        db.session.delete(value)
        db.session.commit()
        assert_counts_kept()

        old = utcnow() - timedelta(days=2000)
        db.session.execute(sa.update(Response).where(Response.id % 4 < 2).values(submitted_at=old))
        db.session.commit()
        done = {result.slug: result.count for result in purge()}
        assert done["omrostning"] and done["anslutning"]  # deleted, anonymised
        assert_counts_kept()


def test_filter_by_date_range_in_swedish_days(app, staff_client, seeded):
    with app.app_context():
        responses = db.session.scalars(sa.select(Response).order_by(Response.id)).all()
        # 22:30 UTC on 31 March is already 1 April in Sweden (summer time, UTC+2).
        for response, moment in zip(responses, [datetime(2026, 3, 31, 21, 30, tzinfo=UTC)] * 5 +
                                    [datetime(2026, 3, 31, 22, 30, tzinfo=UTC)] * 7 +
                                    [datetime(2026, 4, 2, 12, 0, tzinfo=UTC)] * 13, strict=True):
            response.submitted_at = moment
        db.session.commit()
    april_first = text_of(staff_client.get("/staff/forms/anslutning/results?fran=2026-04-01&till=2026-04-01"))
    assert "7 aktuella svar i urvalet" in april_first
    march = text_of(staff_client.get("/staff/forms/anslutning/results?till=2026-03-31"))
    assert "5 aktuella svar i urvalet" in march
    later = text_of(staff_client.get("/staff/forms/anslutning/results?fran=2026-04-01"))
    assert "20 aktuella svar i urvalet" in later


def test_filter_by_organisation_type_uses_the_register_first(app, client, staff_client):
    with app.app_context():
        db.session.add_all(
            Organisation(name=name, name_key=name.lower(), type=kind)
            for name, kind in [("Sala kommun", "kommun"), ("Fagersta kommun", "kommun"), ("Polisen", "myndighet")]
        )
        db.session.commit()
    rng = random.Random(1)
    # Two municipalities from the register (one says it is something else: the register wins),
    # the police, and two not in the register that say what they are.
    for name, said in [("Sala kommun", "kommun"), ("Fagersta kommun", "annan"), ("Polisen", "myndighet"),
                       ("Byalaget", "kommun"), ("Hembygdsföreningen", "civilsamhalle")]:
        answers = {**joining(0, rng), "organisation": name, "organisationstyp": said}
        assert submit(client, "anslutning", answers).status_code == 303
    municipalities = text_of(staff_client.get("/staff/forms/anslutning/results?typ=kommun"))
    assert "3 aktuella svar i urvalet" in municipalities
    assert "1 aktuellt svar i urvalet" in text_of(staff_client.get("/staff/forms/anslutning/results?typ=myndighet"))
    assert "0 aktuella svar i urvalet" in text_of(staff_client.get("/staff/forms/anslutning/results?typ=annan"))


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("fran=31/3/2026", "Skriv datumet som ÅÅÅÅ-MM-DD"),
        ("till=igår", "Skriv datumet som ÅÅÅÅ-MM-DD"),
        ("fran=2026-05-01&till=2026-04-01", "Slutdatumet kan inte vara före startdatumet"),
        ("typ=kungahus", "Välj en av typerna i listan"),
    ],
)
def test_a_bad_filter_gets_a_clear_message(staff_client, query, message):
    response = staff_client.get(f"/staff/forms/anslutning/results?{query}")
    assert response.status_code == 422
    assert message in text_of(response)


def test_ranking_gives_points_and_mentions_with_ties_shown(app, client, staff_client):
    open_to_all(app)
    votes = [
        ["folkhalsa", "barnratt", "demokrati"],
        ["barnratt", "folkhalsa", "integration"],
        ["demokrati", "integration", "folkhalsa"],
    ]
    for vote in votes:
        assert submit(client, "prioritering", {"prioriteringar": vote, "motivering": ""}).status_code == 303
    points, mentions = Counter(), Counter()
    for vote in votes:
        for place, key in enumerate(vote):
            points[key] += 3 - place
            mentions[key] += 1
    assert points == {"folkhalsa": 6, "barnratt": 5, "demokrati": 4, "integration": 3}
    page = text_of(staff_client.get("/staff/forms/prioritering/results"))
    assert "1 Folkhälsa och jämlik hälsa 6 3 1" in page
    assert "2 Barnrättsperspektivet 5 2 2 (delad)" in page
    assert "3 Demokrati och delaktighet 4 2 2 (delad)" in page
    assert "4 Integration och etablering 3 2 2 (delad)" in page
    assert "5 (delad) Våldsförebyggande arbete med barn och unga 0 0" in page


def test_ranking_places_are_shared_on_equal_points():
    spec = FieldDefinition(key="r", type="ranking", label="R", rank=3, choices=tuple(Choice(k, k) for k in "abcd"))
    # a: first twice = 6 points; b: first once, third once = 4; c: second twice = 4; d: third once = 1
    tallies = {("r", "a"): Tally(2, 2), ("r", "b"): Tally(2, 4), ("r", "c"): Tally(2, 4), ("r", "d"): Tally(1, 3)}
    ranked = ranking(spec, tallies)
    assert [(o.key, o.points, o.place, o.tied) for o in ranked] == [
        ("a", 6, 1, False), ("b", 4, 2, True), ("c", 4, 2, True), ("d", 1, 4, False)
    ]
    assert [(o.key, o.mention_place, o.mention_tied) for o in ranked] == [
        ("a", 1, True), ("b", 1, True), ("c", 1, True), ("d", 4, False)
    ]


def test_options_only_an_older_version_had_are_counted_under_their_old_label(app, client, staff_client, seeded):
    definition = catalog_in(app)
    older = parse_definition(
        {
            "title": definition.title,
            "fields": [
                {"key": "organisation", "type": "organisation", "label": "Organisation"},
                {"key": "fokusomraden", "type": "multichoice", "label": "Fokus",
                 "choices": {"makt": "Makt", "skog": "Jämställt skogsbruk"}},
            ],
        },
        "anslutning",
    )
    from formsvc.answers import store_answer

    with app.test_request_context():
        store_answer(older, {"organisation": "Gammal förening", "fokusomraden": ["skog", "makt"]}, "old-version-1")
    page = text_of(staff_client.get("/staff/forms/anslutning/results"))
    # marked as removed: the current version no longer has the option
    assert row_after("Jämställt skogsbruk (borttagen)", page)[0] == "1"
    makt = sum("makt" in a["fokusomraden"] for a in seeded) + 1
    assert row_after("En jämn fördelning av makt och inflytande", page)[0] == str(makt)


def test_all_free_text_answers_a_page_at_a_time(app, client, staff_client):
    open_to_all(app)
    for n in range(60):
        motivation = f"Motivering nummer {n}" if n % 10 else ""
        vote = {"prioriteringar": ["folkhalsa", "barnratt", "demokrati"], "motivering": motivation}
        assert submit(client, "prioritering", vote).status_code == 303
    first = text_of(staff_client.get("/staff/forms/prioritering/results/motivering"))
    assert "Motivering nummer 59" in first and "Nästa sida" in first and "Föregående sida" not in first
    assert first.count("Motivering nummer") == 50
    second = text_of(staff_client.get("/staff/forms/prioritering/results/motivering?page=2"))
    assert second.count("Motivering nummer") == 4 and "Nästa sida" not in second and "Föregående sida" in second
    shown = set(re.findall(r"Motivering nummer \d+", first)) | set(re.findall(r"Motivering nummer \d+", second))
    assert shown == {f"Motivering nummer {n}" for n in range(60) if n % 10}
    assert staff_client.get("/staff/forms/prioritering/results/prioriteringar").status_code == 404
    assert staff_client.get("/staff/forms/prioritering/results/finnsinte").status_code == 404


def test_unknown_form_is_404(staff_client):
    assert staff_client.get("/staff/forms/finnsinte/results").status_code == 404


def test_the_dashboard_links_each_form_to_its_results(staff_client):
    html = staff_client.get("/staff/").get_data(as_text=True)
    for slug in ("anslutning", "nominering", "nyhetsbrev", "prioritering"):
        assert f'href="/staff/forms/{slug}/results"' in html


def test_results_with_no_answers(staff_client):
    page = text_of(staff_client.get("/staff/forms/nominering/results"))
    assert "0 aktuella svar" in page


def test_filters_object_is_false_when_empty():
    assert not Filters() and Filters(organisation_type="kommun")
