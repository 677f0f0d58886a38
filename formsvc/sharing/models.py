"""Short links: /s/<code> stands for a form's link with its prefilled answers, made by staff."""

from __future__ import annotations

import secrets
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ..models import UTCDateTime, utcnow

# Read aloud, typed from a poster or a slide: no 0/o, 1/l/i, and lower case only.
CODE_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"
CODE_LENGTH = 7  # 31**7, about 27 billion codes


class ShortLink(db.Model):
    __tablename__ = "short_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(16), unique=True)
    form_slug: Mapped[str] = mapped_column(sa.String(64), index=True)
    # The prefill part of the link (field and option keys), as the form's query string; may be empty.
    query: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(sa.String(254))


def new_code() -> str:
    """A random code that is not in use yet."""
    while True:
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        if db.session.scalar(sa.select(ShortLink.id).filter_by(code=code)) is None:
            return code


def find_short_link(code: str) -> ShortLink | None:
    # Lower-cased: a code typed from a poster may come in capitals.
    return db.session.scalar(sa.select(ShortLink).filter_by(code=code.strip().lower()))


def short_link_for(form_slug: str, query: str, created_by: str) -> tuple[ShortLink, bool]:
    """The short link for this form and prefill, made if there is none yet; (link, made now)."""
    existing = db.session.scalar(
        sa.select(ShortLink).filter_by(form_slug=form_slug, query=query).order_by(ShortLink.id).limit(1)
    )
    if existing is not None:
        return existing, False
    link = ShortLink(code=new_code(), form_slug=form_slug, query=query, created_by=created_by)
    db.session.add(link)
    return link, True


def short_links_of(form_slug: str) -> list[ShortLink]:
    return list(db.session.scalars(sa.select(ShortLink).filter_by(form_slug=form_slug).order_by(ShortLink.id)))
