"""Personal link tokens: 32 random bytes, only their SHA-256 stored, scoped to one invitation."""

from __future__ import annotations

import re
import secrets

import sqlalchemy as sa

from ..extensions import db
from ..links import hash_token
from ..models import utcnow
from .models import Invitation, InvitationToken

TOKEN_BYTES = 32
# token_urlsafe(32) gives 43 characters of A-Z a-z 0-9 - _; anything else is not worth a database look-up.
TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_-]{43}$")


def new_token(invitation: Invitation, purpose: str) -> str:
    """A new link for the invitation; returns the raw token, which is not kept anywhere."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    invitation.tokens.append(InvitationToken(token_hash=hash_token(token), purpose=purpose))
    return token


def find_token(token: str) -> InvitationToken | None:
    """The live token row for a raw token: None when unknown, malformed or its invitation was revoked."""
    if not TOKEN_SHAPE.match(token or ""):
        return None
    return db.session.scalar(
        sa.select(InvitationToken)
        .join(Invitation)
        .where(InvitationToken.token_hash == hash_token(token), Invitation.revoked_at.is_(None))
    )


def live_token(token_id: int) -> InvitationToken | None:
    """A token row by id (as kept in the session), if its invitation is still live."""
    return db.session.scalar(
        sa.select(InvitationToken)
        .join(Invitation)
        .where(InvitationToken.id == token_id, Invitation.revoked_at.is_(None))
    )


def mark_used(row: InvitationToken) -> None:
    row.last_used_at = utcnow()
