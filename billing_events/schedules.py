"""Reminder schedules per segment: which sequence of stages an invoice follows.

The active stages without a segment are the default schedule; the active stages of one segment
(a contact group, a tracking option, a country, a country and region) are that segment's
schedule. An invoice follows the schedule of the most specific segment that applies to it, in
the one order of snapshots/segments.py, and that schedule replaces the default one whole: stages
are never mixed from two schedules. A schedule whose group or option was deleted in Xero
matches nothing, so its invoices fall back to the default.
"""

from collections.abc import Container, Iterable, Sequence
from dataclasses import dataclass

from snapshots.contacts import ContactCard
from snapshots.segments import Rank, Segment, TrackingTag, match_explain, segments_rank


@dataclass(frozen=True)
class Schedule:
    segment: Segment
    stages: tuple  # ReminderStage rows, by offset

    @property
    def pk(self) -> int:
        # The oldest stage stands for the schedule where two tie (segments_rank's last key).
        return min(stage.pk for stage in self.stages)

    @property
    def label(self) -> str:
        if self.segment.rank == Rank.DEFAULT:
            return "Default schedule"
        return f"Schedule for {self.segment.label}"


NO_SCHEDULE = Schedule(Segment(), ())


def schedules_of(stages: Iterable) -> list[Schedule]:
    """The stages grouped into schedules, one per segment."""
    grouped: dict[tuple, list] = {}
    for stage in stages:
        grouped.setdefault(stage.segment.key, []).append(stage)
    return [
        Schedule(rows[0].segment, tuple(sorted(rows, key=lambda s: s.offset_days)))
        for rows in grouped.values()
    ]


def schedule_choose(
    *,
    schedules: Sequence[Schedule],
    contact: ContactCard,
    tracking: Sequence[TrackingTag],
    gone: Container,
) -> tuple[Schedule, str]:
    """The schedule an invoice follows, and why."""
    matches = segments_rank(schedules, contact=contact, tracking=tracking, gone=gone)
    if not matches:
        return NO_SCHEDULE, "No schedule applies: the default schedule has no active stage."
    return matches[0].item, match_explain(matches)
