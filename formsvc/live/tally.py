"""A round's result: points (3-2-1 for a ranking of three) and mentions, ties as ties.

The database counts each option's mentions and sums its places; `aggregate.ranking`, which ranks a form's
ranking questions on the results page, turns those into points and shared places, so a round and the
results page rank the same way. Options nobody picked get 0 and share the place after every picked one.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import sqlalchemy as sa

from .. import aggregate
from ..definitions.schema import Choice, FieldDefinition
from ..extensions import db
from .models import LiveRound, LiveVote, LiveVotePlace


@dataclass(frozen=True)
class Standing:
    key: str
    label: str
    points: int
    mentions: int
    points_place: int
    points_tied: bool
    mentions_place: int
    mentions_tied: bool


@dataclass(frozen=True)
class Tally:
    voters: int
    by_points: list[Standing]
    by_mentions: list[Standing]

    def as_json(self) -> dict:
        return {
            "voters": self.voters,
            "by_points": [asdict(s) for s in self.by_points],
            "by_mentions": [asdict(s) for s in self.by_mentions],
        }


def tally(live_round: LiveRound) -> Tally:
    """The round's standings by points and by mentions, and how many have voted."""
    query = (
        sa.select(LiveVotePlace.value, sa.func.count(LiveVotePlace.id), sa.func.sum(LiveVotePlace.place))
        .where(LiveVotePlace.round_id == live_round.id)
        .group_by(LiveVotePlace.value)
    )
    counts = {
        (live_round.field, value): aggregate.Tally(int(count), int(places))
        for value, count, places in db.session.execute(query)
    }
    voters = db.session.scalar(sa.select(sa.func.count(LiveVote.id)).where(LiveVote.round_id == live_round.id))
    standings = [
        Standing(o.key, o.label, o.points, o.mentions, o.place, o.tied, o.mention_place, o.mention_tied)
        for o in aggregate.ranking(_question(live_round), counts)
    ]
    return Tally(
        voters=voters or 0,
        by_points=sorted(standings, key=lambda s: (s.points_place, -s.mentions, s.label)),
        by_mentions=sorted(standings, key=lambda s: (s.mentions_place, -s.points, s.label)),
    )


def _question(live_round: LiveRound) -> FieldDefinition:
    """The ranking question as the round took it from the form when it opened."""
    choices = tuple(Choice(key, label) for key, label in live_round.choices)
    return FieldDefinition(live_round.field, "ranking", live_round.question, choices=choices, rank=live_round.rank)
