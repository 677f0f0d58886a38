"""API keys: made by Administratörs, scoped to forms and to what they may read, stored hashed."""

from __future__ import annotations

import secrets
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ..invitations.tokens import hash_token
from ..models import UTCDateTime, utcnow

KEY_PREFIX = "fsk_"  # recognisable in logs and secret scanners
ANSWERS, ORGANISATIONS, SUBSCRIBERS = "answers", "organisations", "subscribers"
SCOPES = (ANSWERS, ORGANISATIONS, SUBSCRIBERS)


class ApiKey(db.Model):
    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    # The first characters of the key, to tell keys apart on the staff page; the rest is only in the hash.
    shown_start: Mapped[str] = mapped_column(sa.String(16))
    key_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    forms: Mapped[list] = mapped_column(sa.JSON)  # the slugs it may read
    scopes: Mapped[list] = mapped_column(sa.JSON)  # a subset of SCOPES
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(sa.String(254))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_by: Mapped[str | None] = mapped_column(sa.String(254))

    @property
    def usable(self) -> bool:
        return self.revoked_at is None and self.expires_at > utcnow()


def new_key(
    name: str, forms: list[str], scopes: list[str], expires_at: datetime, created_by: str
) -> tuple[ApiKey, str]:
    """A new key (added to the session); returns it and the plain key, which is kept nowhere."""
    plain = KEY_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey(name=name, shown_start=plain[:10], key_hash=hash_token(plain), forms=sorted(forms),
                 scopes=sorted(scopes), expires_at=expires_at, created_by=created_by)  # fmt: skip
    db.session.add(key)
    return key, plain


def find_key(plain: str) -> ApiKey | None:
    # sha256 is enough: the key has 256 random bits, nothing to guess offline.
    return db.session.scalar(sa.select(ApiKey).filter_by(key_hash=hash_token(plain)))
