"""Which template a notification uses (kind × channel × segment × stage × language), and the
templates as the editor lists them.
"""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from django.db.models import QuerySet

from connections.models import MessagingSettings, Tenant
from messaging.languages import language_name
from messaging.models import (
    ContactPreference,
    Kind,
    MessageTemplate,
    channel_labels,
)
from snapshots.contacts import ContactCard
from snapshots.segments import Match, TrackingTag, segment_gone_note, segments_rank
from snapshots.selectors import segments_gone


def _applies(
    template: MessageTemplate,
    *,
    contact: ContactCard,
    reminder_stage: str,
    tracking: Sequence[TrackingTag],
    language: str,
) -> bool:
    return (
        template.reminder_stage in ("", reminder_stage)
        and template.language in ("", language)
        and template.contact_group_id in ("", *contact.group_ids)
        and template.tracking_option_id in ("", *(tag.option_id for tag in tracking))
        and template.country in ("", contact.country)
    )


def _in_language(candidates: list[MessageTemplate]) -> list[MessageTemplate]:
    # A message in the reader's language matters more than a closer match of segment or stage.
    translated = {t.channel for t in candidates if t.language}
    return [t for t in candidates if bool(t.language) == (t.channel in translated)]


@dataclass(frozen=True)
class Delivery:
    """How one contact is reached: their own channels and language where staff set them, else
    the tenant's defaults."""

    channels: tuple[str, ...]
    language: str
    own_channels: bool

    @property
    def channel_labels(self) -> list[str]:
        return channel_labels(self.channels)

    @property
    def language_name(self) -> str:
        return language_name(self.language)


@dataclass(frozen=True)
class TemplateChoice:
    templates: dict[str, MessageTemplate]
    problem: str = ""  # when nothing goes: "no_template", or "no_channel" (none on its channels)
    reason: str = ""


class TemplateBook:
    """A tenant's active templates of some kinds, its messaging defaults and some contacts'
    preferences, read once (three or four statements) to choose the templates of many
    notifications: a batch of a hundred costs what one did."""

    def __init__(self, *, tenant: Tenant, kinds, contact_ids=()):
        self.tenant = tenant
        self.defaults = messaging_settings_of(tenant=tenant)
        contact_ids = {contact_id for contact_id in contact_ids if contact_id}
        self.preferences = (
            {
                preference.contact_id: preference
                for preference in ContactPreference.objects.filter(
                    tenant=tenant, contact_id__in=contact_ids
                )
            }
            if contact_ids
            else {}
        )
        self.templates = list(
            MessageTemplate.objects.filter(tenant=tenant, kind__in=set(kinds), is_active=True)
        )
        self.gone = segments_gone(tenant=tenant, refs={t.segment.xero_ref for t in self.templates})

    def delivery(self, contact_id: str) -> Delivery:
        preference = self.preferences.get(contact_id) or ContactPreference()
        return Delivery(
            channels=tuple(preference.channels or self.defaults.default_channels),
            language=preference.language or self.defaults.default_language,
            own_channels=bool(preference.channels),
        )

    def ranked(
        self,
        *,
        kind: str,
        contact: ContactCard,
        reminder_stage: str = "",
        tracking: Sequence[TrackingTag] = (),
        language: str = "",
    ) -> dict[str, list[Match]]:
        """Per channel, the active templates that apply to this contact (and invoice), best
        first in the one order of snapshots/segments.py; groups and options deleted in Xero
        match none. With a `language`, a channel that has templates in it uses only those; a
        channel that has none uses the default-language ones."""
        candidates = [
            t
            for t in self.templates
            if t.kind == kind
            and _applies(
                t,
                contact=contact,
                reminder_stage=reminder_stage,
                tracking=tracking,
                language=language,
            )
        ]
        by_channel: dict[str, list[MessageTemplate]] = defaultdict(list)
        for template in _in_language(candidates):
            by_channel[template.channel].append(template)
        ranked = {
            channel: segments_rank(
                templates,
                contact=contact,
                tracking=tracking,
                gone=self.gone,
                stage_specific=lambda template: bool(template.reminder_stage),
            )
            for channel, templates in by_channel.items()
        }
        return {channel: matches for channel, matches in ranked.items() if matches}

    def choose(
        self,
        *,
        kind: str,
        contact: ContactCard,
        reminder_stage: str = "",
        tracking: Sequence[TrackingTag] = (),
        channels: Sequence[str] | None = None,
    ) -> TemplateChoice:
        """What notify() sends on: the active templates in the contact's language (else the
        default) on the contact's channels (else the tenant's), or on exactly `channels`."""
        delivery = self.delivery(contact.contact_id)
        ranked = self.ranked(
            kind=kind,
            contact=contact,
            reminder_stage=reminder_stage,
            tracking=tracking,
            language=delivery.language,
        )
        usable = {channel: matches[0].item for channel, matches in ranked.items()}
        wanted = delivery.channels if channels is None else channels
        chosen = {channel: t for channel, t in usable.items() if channel in wanted}
        if chosen:
            return TemplateChoice(chosen)
        label = Kind(kind).label
        if not usable or channels is not None:
            return TemplateChoice(
                {}, "no_template", f"No active template for “{label}”: nothing was sent."
            )
        whose = (
            "the channels set for this contact"
            if delivery.own_channels
            else "your default channels (Messaging settings)"
        )
        return TemplateChoice(
            {},
            "no_channel",
            f"No active template for “{label}” on {' or '.join(channel_labels(wanted))}, "
            f"{whose}; there is one for {' or '.join(channel_labels(usable))}. Nothing was sent.",
        )


def templates_ranked(
    *,
    tenant: Tenant,
    kind: str,
    contact: ContactCard,
    reminder_stage: str = "",
    tracking: Sequence[TrackingTag] = (),
    language: str = "",
) -> dict[str, list[Match]]:
    """TemplateBook.ranked for one contact."""
    return TemplateBook(tenant=tenant, kinds=[kind]).ranked(
        kind=kind,
        contact=contact,
        reminder_stage=reminder_stage,
        tracking=tracking,
        language=language,
    )


def templates_choose(
    *,
    tenant: Tenant,
    kind: str,
    contact: ContactCard,
    reminder_stage: str = "",
    tracking: Sequence[TrackingTag] = (),
    language: str = "",
) -> dict[str, MessageTemplate]:
    """The most specific active template per channel (templates_ranked's first)."""
    ranked = templates_ranked(
        tenant=tenant,
        kind=kind,
        contact=contact,
        reminder_stage=reminder_stage,
        tracking=tracking,
        language=language,
    )
    return {channel: matches[0].item for channel, matches in ranked.items()}


def messaging_settings_of(*, tenant: Tenant) -> MessagingSettings:
    """The tenant's settings, or the defaults (unsaved) before it saved any."""
    return MessagingSettings.objects.filter(tenant=tenant).first() or MessagingSettings(
        tenant=tenant
    )


def delivery_for(*, tenant: Tenant, contact_id: str) -> Delivery:
    return TemplateBook(tenant=tenant, kinds=[], contact_ids=[contact_id]).delivery(contact_id)


def templates_for_notification(
    *,
    tenant: Tenant,
    kind: str,
    contact: ContactCard,
    reminder_stage: str = "",
    tracking: Sequence[TrackingTag] = (),
    channels: Sequence[str] | None = None,
) -> TemplateChoice:
    """TemplateBook.choose for one notification."""
    book = TemplateBook(tenant=tenant, kinds=[kind], contact_ids=[contact.contact_id])
    return book.choose(
        kind=kind,
        contact=contact,
        reminder_stage=reminder_stage,
        tracking=tracking,
        channels=channels,
    )


def template_languages(*, tenant: Tenant) -> list[str]:
    """The languages the tenant has templates in, the default ("") first."""
    codes = MessageTemplate.objects.filter(tenant=tenant).values_list("language", flat=True)
    return sorted(set(codes) | {""})


def templates_for_editor(*, tenant: Tenant) -> QuerySet[MessageTemplate]:
    """Every template, in kind × channel × segment × stage order."""
    return MessageTemplate.objects.filter(tenant=tenant).order_by(
        "kind", "channel", "contact_group_name", "tracking_label", "country", "region",
        "reminder_stage", "pk",
    )  # fmt: skip


def templates_noted(*, tenant: Tenant, templates) -> list[MessageTemplate]:
    """The templates, each with `segment_note`: what to say when its contact group or tracking
    option was archived or deleted in Xero (it matches nothing, so the default is used)."""
    templates = list(templates)
    gone = segments_gone(tenant=tenant, refs={t.segment.xero_ref for t in templates})
    for template in templates:
        how = gone.get(template.segment.xero_ref)
        template.segment_note = segment_gone_note(template.segment, how=how) if how else ""
    return templates
