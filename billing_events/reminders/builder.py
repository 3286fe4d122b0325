"""The reminder schedule builder: each schedule drawn as a timeline (before due · due · after
due), every step with its day, its channels and the very text it would send, and the writes
behind adding, changing, removing and trying a step.

A step's place on the timeline is its day: the steps of a schedule are always in the order of
their days, so moving a step is changing its day (there is no second order to keep in step).

Texts are chosen and filled as notify() would (messaging's templates_for_notification and
template_values), for the tenant's most recent invoice (messaging.template_editor's
preview_sample) as a customer in the schedule's segment would get it.
"""

import uuid
from dataclasses import dataclass, replace

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from billing_events.models import ReminderStage
from billing_events.reminders.schedule import SCHEDULE_CONFLICT, ScheduleConflict, stage_key_make
from billing_events.schedules import Schedule, schedules_of
from connections.models import Membership, Tenant
from messaging import rendering
from messaging.models import PHONE_CHANNELS, Channel, Kind, Message
from messaging.selectors import templates_for_notification
from messaging.services import notify
from messaging.template_editor import preview_sample
from snapshots.contacts import ContactCard
from snapshots.forms import applies_to_value
from snapshots.segments import Rank, Segment, TrackingTag, segment_gone_note
from snapshots.selectors import segment_choices, segment_names_fill, segments_gone

PHASES = (
    ("before", "Before the due date"),
    ("due", "On the due date"),
    ("after", "After the due date"),
)


@dataclass(frozen=True)
class StepText:
    channel: str  # "sms"
    subject: str
    text: str
    problem: str  # the template cannot be filled: why
    for_the_step: bool = True  # False: the general reminder, written for any (overdue) step

    @property
    def channel_label(self) -> str:
        return Channel(self.channel).label


@dataclass(frozen=True)
class Step:
    stage: ReminderStage
    texts: tuple[StepText, ...]
    problem: str  # nothing would go at all: why

    @property
    def channels(self) -> str:
        return ", ".join(text.channel_label for text in self.texts)


@dataclass(frozen=True)
class Timeline:
    schedule: Schedule
    steps: tuple[Step, ...]
    note: str = ""  # set when its contact group or tracking option was deleted in Xero
    organisation: str = ""  # whose group or option it is, once the tenant has several

    @property
    def label(self) -> str:
        label = self.schedule.label
        return f"{label} — {self.organisation}" if self.organisation else label

    @property
    def applies_to(self) -> str:
        """The schedule's segment as the step form's "Applies to" value."""
        return applies_to_value(self.schedule.segment)

    @property
    def phases(self) -> list[tuple[str, str, list[Step]]]:
        return [
            (key, title, [step for step in self.steps if step.stage.phase == key])
            for key, title in PHASES
        ]


@dataclass(frozen=True)
class Builder:
    timelines: list[Timeline]
    sample_label: str  # whose invoice filled the texts


def _as_member_of(
    contact: ContactCard, segment: Segment
) -> tuple[ContactCard, tuple[TrackingTag, ...]]:
    """The sample contact (and invoice tracking) as one of the segment's customers would be."""
    if segment.tracking_option_id:
        tag = TrackingTag(
            segment.tracking_category_id, segment.tracking_option_id, segment.tracking_label
        )
        return contact, (tag,)
    if segment.contact_group_id:
        group = (segment.contact_group_id,), (segment.contact_group_name,)
        return replace(contact, group_ids=group[0], group_names=group[1]), ()
    if segment.country:
        where = {"country": segment.country, "region": segment.region}
        return replace(contact, **where, country_source="address"), ()
    return contact, ()


@dataclass(frozen=True)
class _Sample:
    contact: ContactCard
    context: dict
    tracking: tuple[TrackingTag, ...]


def _sample_for(*, contact: ContactCard, context: dict, stage: ReminderStage) -> _Sample:
    """The sample invoice as the step would find it: its customer in the step's segment, on the
    step's own day (the values the sweep fills, billing_events/reminders/sweep.py)."""
    member, tracking = _as_member_of(contact, stage.segment)
    on_the_day = {
        **context,
        "days_overdue": max(stage.offset_days, 0),
        "reminder_stage": stage.key,
    }
    return _Sample(member, on_the_day, tracking)


def _step(*, tenant: Tenant, stage: ReminderStage, sample: _Sample) -> Step:
    contact = sample.contact
    choice = templates_for_notification(
        tenant=tenant,
        kind=Kind.REMINDER,
        contact=contact,
        reminder_stage=stage.key,
        tracking=sample.tracking,
    )
    values = rendering.template_values(
        contact=contact, context=sample.context, tenant_country=tenant.default_country
    )
    texts = []
    for channel, template in sorted(choice.templates.items()):
        limit = rendering.MAX_OUTPUT[channel]
        try:
            subject = rendering.render(template.subject, values, max_length=300)
            text = rendering.render(template.body, values, max_length=limit)
        except rendering.RenderError as error:
            texts.append(StepText(channel, "", "", str(error)))
            continue
        if not text and template.content_sid:
            text = "(a WhatsApp template approved by Meta; its variables are filled on sending)"
        texts.append(StepText(channel, subject, text, "", bool(template.reminder_stage)))
    return Step(stage=stage, texts=tuple(texts), problem=choice.reason)


def _gone_note(segment: Segment, gone: dict) -> str:
    how = gone.get(segment.xero_ref)
    return segment_gone_note(segment, how=how) if how else ""


def schedule_builder(*, tenant: Tenant) -> Builder:
    """Every schedule of the tenant (the default one first), its steps (active or not) in the
    order of their days, each with the text it would send."""
    contact, context, sample_label = preview_sample(tenant=tenant)
    schedules = sorted(
        schedules_of(ReminderStage.objects.filter(tenant=tenant)),
        key=lambda s: (s.segment.rank != Rank.DEFAULT, -s.segment.rank, s.segment.label.casefold()),
    )
    gone = segments_gone(tenant=tenant, refs={s.segment.xero_ref for s in schedules})
    owners = segment_choices(tenant=tenant).organisations
    timelines = [
        Timeline(
            schedule=schedule,
            note=_gone_note(schedule.segment, gone),
            organisation=getattr(owners.get(schedule.segment.xero_ref), "name", ""),
            steps=tuple(
                _step(
                    tenant=tenant,
                    stage=stage,
                    sample=_sample_for(contact=contact, context=context, stage=stage),
                )
                for stage in schedule.stages
            ),
        )
        for schedule in schedules
    ]
    return Builder(timelines=timelines, sample_label=sample_label)


# --- writes -------------------------------------------------------------------------------------


def reminder_step_save(*, tenant: Tenant, stage: ReminderStage) -> ReminderStage:
    """Add or change one step; a second step on the same day of the same schedule is refused
    by the database (ScheduleConflict), never half-saved."""
    stage.tenant = tenant
    if not stage.key:
        taken = ReminderStage.objects.filter(tenant=tenant).values_list("key", flat=True)
        stage.key = stage_key_make(stage=stage, taken=set(taken))
    segment_names_fill(stage, tenant=tenant)
    try:
        with transaction.atomic():
            stage.save()
    except IntegrityError:
        if stage._state.adding:
            stage.key = ""
        raise ScheduleConflict(SCHEDULE_CONFLICT) from None
    return stage


def reminder_step_delete(*, stage: ReminderStage) -> None:
    stage.delete()


NO_MOBILE = "Add your mobile number first (below the schedule): the test goes to you."


def reminder_step_test(
    *, tenant: Tenant, stage: ReminderStage, membership: Membership
) -> list[Message]:
    """Text this step, as the sample invoice's customer would get it, to the staff member's own
    mobile, through notify() like any text: logged, dispatched, status-tracked.

    It is marked a test (never counted in reports), has a dedup key of its own
    (`test:<stage id>:<uuid>`, so neither a real reminder nor an earlier test stops it), and is
    not held for quiet hours (the person it goes to asked for it now). An opted-out number is
    still refused: a STOP sent to the tenant's number binds Twilio for every text.
    """
    if not membership.mobile:
        raise ValidationError(NO_MOBILE)
    contact, context, _label = preview_sample(tenant=tenant)
    sample = _sample_for(contact=contact, context=context, stage=stage)
    step = _step(tenant=tenant, stage=stage, sample=sample)
    channels = [text.channel for text in step.texts if text.channel in PHONE_CHANNELS]
    if not channels:
        raise ValidationError(
            step.problem or "This step sends no text (only email): there is nothing to try."
        )
    to_staff = replace(
        sample.contact,
        contact_id="",
        email="",
        phones=({"PhoneType": "MOBILE", "PhoneNumber": membership.mobile},),
    )
    return notify(
        tenant=tenant,
        kind=Kind.REMINDER,
        contact=to_staff,
        context=sample.context,
        dedup_key=f"test:{stage.pk}:{uuid.uuid4().hex}",
        channels=channels,
        tracking=sample.tracking,
        is_test=True,
    )


def test_outcome(messages: list[Message]) -> str:
    """What became of a test, in a sentence for the person who asked."""
    said = []
    for message in messages:
        channel = Channel(message.channel).label
        if message.status == Message.Status.SKIPPED:
            said.append(f"{channel}: not sent — {message.status_reason}")
        else:
            said.append(f"{channel} test on its way to {message.recipient}")
    return "; ".join(said) + ". It is in the send log, marked as a test."
