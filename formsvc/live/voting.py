"""Casting a vote: one per voter and round, a new one replaces the old, safe under concurrent clicks.

The unique constraint on (round, voter key) is the guarantee; this module handles losing the race to it.
Two clicks at once both try to INSERT the vote row: one wins, the other gets an IntegrityError (PostgreSQL
makes it wait for the winner's commit first), rolls back to its savepoint, and replaces the winner's places
instead. On SQLite every write transaction starts with BEGIN IMMEDIATE, so they queue and never collide.
The round row is read FOR SHARE, so closing (an UPDATE of that row) waits for votes in flight, and a vote
that comes after the close sees it closed: a closed round's tally never changes.
"""

from __future__ import annotations

import hashlib

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import utcnow
from ..webhooks import emit
from .models import LiveRound, LiveSeat, LiveVote, LiveVotePlace
from .tally import tally


class RoundClosed(Exception):
    """The round was closed before this vote could be stored."""


def device_voter_key(device_id: str) -> str:
    # Hashed: the database never holds what the browser presents.
    return "device:" + hashlib.sha256(device_id.encode()).hexdigest()


def seat_voter_key(seat: LiveSeat) -> str:
    return f"seat:{seat.id}"


def cast_vote(round_id: int, voter_key: str, ranking: list[str]) -> bool:
    """Store the voter's ranking (place 1 first); the caller commits. Returns True when it replaced an earlier
    vote. A closed round raises RoundClosed (with the round's row lock let go)."""
    live_round = db.session.scalar(sa.select(LiveRound).where(LiveRound.id == round_id).with_for_update(read=True))
    if live_round is None or not live_round.is_open:
        db.session.rollback()
        raise RoundClosed
    try:
        with db.session.begin_nested():
            vote = LiveVote(round_id=round_id, voter_key=voter_key)
            db.session.add(vote)
        replaced = False
    except IntegrityError:  # this voter has a vote already, maybe stored a moment ago by a second click
        vote = db.session.scalar(
            sa.select(LiveVote).filter_by(round_id=round_id, voter_key=voter_key).with_for_update()
        )
        db.session.execute(sa.delete(LiveVotePlace).where(LiveVotePlace.vote_id == vote.id))
        vote.changed_at = utcnow()
        vote.changes = LiveVote.changes + 1
        replaced = True
    db.session.add_all(
        LiveVotePlace(vote_id=vote.id, round_id=round_id, value=value, place=place)
        for place, value in enumerate(ranking, start=1)
    )
    return replaced


def current_ranking(round_id: int, voter_key: str) -> list[str]:
    """The voter's stored ranking in this round, place 1 first; empty when they have not voted."""
    query = (
        sa.select(LiveVotePlace.value)
        .join(LiveVote, LiveVote.id == LiveVotePlace.vote_id)
        .where(LiveVote.round_id == round_id, LiveVote.voter_key == voter_key)
        .order_by(LiveVotePlace.place)
    )
    return list(db.session.scalars(query))


def close_round(live_round: LiveRound, closed_by: str) -> None:
    """Close the round (the caller commits). Votes in flight finish first; later ones are refused."""
    closed = db.session.execute(
        sa.update(LiveRound)
        .where(LiveRound.id == live_round.id, LiveRound.closed_at.is_(None))
        .values(closed_at=utcnow(), closed_by=closed_by)
    )
    db.session.refresh(live_round)
    if closed.rowcount == 1:  # closed now, not by another click before
        emit("live_round.closed", round_data(live_round))


def round_data(live_round: LiveRound) -> dict:
    """What the live_round.closed webhook tells: the round and its final result (counts; no voter named)."""
    return {
        "round": live_round.id,
        "form": live_round.form_slug,
        "field": live_round.field,
        "title": live_round.title,
        "question": live_round.question,
        "opened_at": live_round.opened_at.isoformat(),
        "closed_at": live_round.closed_at.isoformat() if live_round.closed_at else None,
        "result": tally(live_round).as_json(),
    }
