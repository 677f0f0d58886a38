"""Tables of the live workshop vote: rounds, seat codes, votes and the places of each vote.

Why votes have tables of their own rather than going through `answers.store_answer`:
a live vote is replaced, not added, when the same seat or device votes again, and that must hold under
concurrent clicks. One row per voter with a unique (round, voter key) constraint gives that in the database
itself; the ranked places sit in `live_vote_places`, one row each, so the tally is a GROUP BY in SQL.
`store_answer` is idempotent per submission key, not per voter, commits on its own and would put every
replaced vote into the form's ordinary answers; a round's results belong to the round.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..models import UTCDateTime, utcnow

MODES = ("device", "seat")  # one vote per device (anyone with the code), or per printed seat code


class LiveRound(db.Model):
    """One live vote on one ranking question of a form; a form may have many rounds over time."""

    __tablename__ = "live_rounds"

    id: Mapped[int] = mapped_column(primary_key=True)
    form_slug: Mapped[str] = mapped_column(sa.String(64), index=True)
    field: Mapped[str] = mapped_column(sa.String(64))
    title: Mapped[str] = mapped_column(sa.String(200), default="")
    join_code: Mapped[str] = mapped_column(sa.String(16), unique=True)
    mode: Mapped[str] = mapped_column(sa.String(16))
    # The question as it was when the round started, so its results stay readable if the form changes.
    question: Mapped[str] = mapped_column(sa.String(500))
    choices: Mapped[list] = mapped_column(sa.JSON)  # [[key, label], ...]
    rank: Mapped[int] = mapped_column()  # places to fill; place p gives rank + 1 - p points
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    opened_by: Mapped[str] = mapped_column(sa.String(254))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_by: Mapped[str | None] = mapped_column(sa.String(254))
    # No numbers but the count of votes (page, projector, tally.json) until the round closes: the room
    # votes without seeing which way it leans.
    results_hidden: Mapped[bool] = mapped_column(default=False, server_default=sa.false())

    seats: Mapped[list[LiveSeat]] = relationship(
        order_by="LiveSeat.number", cascade="all, delete-orphan", passive_deletes=True
    )

    @property
    def is_open(self) -> bool:
        return self.closed_at is None

    @property
    def results_shown(self) -> bool:
        return not (self.results_hidden and self.is_open)

    def choice_label(self, key: str) -> str:
        return next((label for k, label in self.choices if k == key), key)


class LiveSeat(db.Model):
    """A seat code handed out on paper: one vote per seat.

    Kept in plain text (unlike invitation tokens) because staff must be able to print the list again;
    a code only lets someone vote in this one round, and only while it is open.
    """

    __tablename__ = "live_seats"
    __table_args__ = (sa.UniqueConstraint("round_id", "number"), sa.UniqueConstraint("round_id", "code"))

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(sa.ForeignKey("live_rounds.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column()
    code: Mapped[str] = mapped_column(sa.String(16))


class LiveVote(db.Model):
    """The current vote of one voter in one round. The unique constraint is what makes it one."""

    __tablename__ = "live_votes"
    __table_args__ = (sa.UniqueConstraint("round_id", "voter_key", name="uq_live_votes_voter"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(sa.ForeignKey("live_rounds.id", ondelete="CASCADE"))
    # "seat:<seat id>" or "device:<sha256 of the device id in the voter's session>"
    voter_key: Mapped[str] = mapped_column(sa.String(80))
    cast_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    changes: Mapped[int] = mapped_column(default=0, server_default="0")  # times the voter replaced the vote


class LiveVotePlace(db.Model):
    """One ranked option of a vote: place 1 is the most important."""

    __tablename__ = "live_vote_places"
    __table_args__ = (
        sa.UniqueConstraint("vote_id", "place"),
        sa.UniqueConstraint("vote_id", "value"),
        sa.Index("ix_live_vote_places_tally", "round_id", "value"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    vote_id: Mapped[int] = mapped_column(sa.ForeignKey("live_votes.id", ondelete="CASCADE"), index=True)
    round_id: Mapped[int] = mapped_column(sa.ForeignKey("live_rounds.id", ondelete="CASCADE"))  # for the tally
    value: Mapped[str] = mapped_column(sa.String(64))
    place: Mapped[int] = mapped_column()
