"""Seed many answers to `anslutning` fast, with bulk inserts (used by bench_export.py)."""

from __future__ import annotations

import random
from datetime import timedelta

import sqlalchemy as sa

from formsvc.answers import form_version_id
from formsvc.catalog import catalog
from formsvc.extensions import db
from formsvc.models import AnswerValue, Response, utcnow

SLUG = "anslutning"
BATCH = 5000
# A few hostile strings among the answers, so the formula-safe path is exercised as it would be.
HOSTILE = ["=SUM(A1:A9)", "+46 70 123 45 67", "-2+3", "@kontakt"]


def seed(count: int, seed_value: int = 3) -> None:
    """`count` answers, one in a hundred replaced by a newer one (not current), spread over 60 days."""
    definition = catalog().get(SLUG)
    version = form_version_id(definition, db.session.connection())
    db.session.commit()
    rng = random.Random(seed_value)
    spec = {s.key: s for s in definition.fields}
    focus = [c.key for c in spec["fokusomraden"].choices]
    package = [c.key for c in spec["valkomstpaket"].choices]
    kinds = [c.key for c in spec["organisationstyp"].choices]
    start = utcnow() - timedelta(days=60)
    first_id = (db.session.scalar(sa.select(sa.func.max(Response.id))) or 0) + 1
    for offset in range(0, count, BATCH):
        responses, values = [], []
        for n in range(offset, min(offset + BATCH, count)):
            answers = {
                "organisation": f"Organisation {n}",
                "organisationstyp": rng.choice(kinds),
                "kontaktperson": f"Kontaktperson {n}" if n % 250 else rng.choice(HOSTILE),
                "epost": f"kontakt{n}@example.org",
                "telefon": f"021-{n:06d}" if n % 3 else None,
                "fokusomraden": rng.sample(focus, rng.randint(1, 4)),
                "valkomstpaket": rng.sample(package, rng.randint(0, 4)),
                "nyhetsbrev": rng.choice(["ja", "nej", None]),
                "samtycke": True,
            }
            response_id = first_id + n
            responses.append(
                {
                    "id": response_id,
                    "reference": f"B{response_id:07d}",
                    "form_slug": SLUG,
                    "form_version_id": version,
                    "submitted_at": start + timedelta(seconds=n * 50),
                    "submission_key": f"bench-{response_id}",
                    "organisation_name": answers["organisation"],
                    "answers": answers,
                    "is_current": n % 100 != 0,
                    "consents": {"samtycke": definition.version},
                }
            )
            values.append(
                {
                    "response_id": response_id,
                    "form_slug": SLUG,
                    "field": "organisationstyp",
                    "value": answers["organisationstyp"],
                    "position": None,
                }
            )
            for key in ("fokusomraden", "valkomstpaket"):
                values += [
                    {"response_id": response_id, "form_slug": SLUG, "field": key, "value": v, "position": None}
                    for v in answers[key]
                ]
            if answers["nyhetsbrev"]:
                values.append(
                    {
                        "response_id": response_id,
                        "form_slug": SLUG,
                        "field": "nyhetsbrev",
                        "value": answers["nyhetsbrev"],
                        "position": None,
                    }
                )
        db.session.execute(sa.insert(Response), responses)
        db.session.execute(sa.insert(AnswerValue), values)
        db.session.commit()
