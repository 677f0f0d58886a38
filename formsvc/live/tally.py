"""A round's result, counted in SQL: points (3-2-1 for a ranking of three) and mentions, ties as ties.

The database groups the places by option and ranks the groups with RANK(), so equal points get equal
places (1, 2, 2, 4) and a COUNT() OVER the same value says whether a place is shared.
Options nobody picked are added afterwards with 0: they share the place after every picked option.

Overlaps with formsvc/aggregate.py (issue 3, written at the same time): its `ranking()` gives the same
points, mentions and shared places for a form's ordinary answers, from per-option (count, sum of places)
read out of answer_values, with the places worked out in Python. Once both are on main, this module can
feed live_vote_places' (count, sum of places) per option into that function and keep only the query.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import sqlalchemy as sa

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
    points = sa.func.sum(live_round.rank + 1 - LiveVotePlace.place)
    mentions = sa.func.count(LiveVotePlace.id)
    query = (
        sa.select(
            LiveVotePlace.value,
            points.label("points"),
            mentions.label("mentions"),
            sa.func.rank().over(order_by=points.desc()).label("points_place"),
            sa.func.count().over(partition_by=points).label("points_sharing"),
            sa.func.rank().over(order_by=mentions.desc()).label("mentions_place"),
            sa.func.count().over(partition_by=mentions).label("mentions_sharing"),
        )
        .where(LiveVotePlace.round_id == live_round.id)
        .group_by(LiveVotePlace.value)
    )
    rows = db.session.execute(query).all()
    voters = db.session.scalar(sa.select(sa.func.count(LiveVote.id)).where(LiveVote.round_id == live_round.id))
    standings = [
        Standing(
            key=row.value,
            label=live_round.choice_label(row.value),
            points=int(row.points),
            mentions=int(row.mentions),
            points_place=int(row.points_place),
            points_tied=row.points_sharing > 1,
            mentions_place=int(row.mentions_place),
            mentions_tied=row.mentions_sharing > 1,
        )
        for row in rows
    ]
    picked = {s.key for s in standings}
    unpicked = [key for key, _label in live_round.choices if key not in picked]
    standings += [
        Standing(
            key=key,
            label=live_round.choice_label(key),
            points=0,
            mentions=0,
            points_place=len(rows) + 1,
            points_tied=len(unpicked) > 1,
            mentions_place=len(rows) + 1,
            mentions_tied=len(unpicked) > 1,
        )
        for key in unpicked
    ]
    return Tally(
        voters=voters or 0,
        by_points=sorted(standings, key=lambda s: (s.points_place, -s.mentions, s.label)),
        by_mentions=sorted(standings, key=lambda s: (s.mentions_place, -s.points, s.label)),
    )
