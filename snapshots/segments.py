"""Segments: whom a template or a reminder schedule is for, and the one order that decides which
applies when several match (README "Segments").

Most specific first:

1. a tracking option on the invoice's line items (e.g. Region: North);
2. a Xero contact group of the contact (e.g. VIP);
3. the contact's country and region (e.g. Australia, NSW);
4. the contact's country (e.g. United Kingdom);
5. the default (no segment).

Within one rank a reminder template written for the stage beats one for "any stage"; remaining
ties go to the label, then to the oldest row, so the choice never flips between two runs.

A segment whose contact group or tracking option was deleted or archived in Xero matches nothing,
so sending falls down this order to the default; the template and reminder pages say so.
The country of a contact comes from its Xero address (STREET, else POBOX), else from its phone
number (snapshots/locations.py).
"""

from collections.abc import Callable, Container, Iterable, Sequence
from dataclasses import dataclass
from enum import IntEnum

import pycountry
from django.db import models

from snapshots.contacts import ContactCard


class Rank(IntEnum):
    DEFAULT = 0
    COUNTRY = 1
    COUNTRY_REGION = 2
    CONTACT_GROUP = 3
    TRACKING = 4


RANK_NAMES = {
    Rank.TRACKING: "tracking option",
    Rank.CONTACT_GROUP: "contact group",
    Rank.COUNTRY_REGION: "country and region",
    Rank.COUNTRY: "country",
    Rank.DEFAULT: "default",
}

# How each rank reads in the one-line order shown on the pages.
PRECEDENCE = (
    "tracking option on the invoice's line items › contact group › country and region › "
    "country › default"
)

GROUP, TRACKING = "group", "tracking"


@dataclass(frozen=True)
class TrackingTag:
    """One tracking option an invoice's line items carry (LineItems[].Tracking[] in Xero)."""

    category_id: str  # TrackingCategoryID
    option_id: str  # TrackingOptionID
    label: str  # "Region: North"


def location_source(contact: ContactCard) -> str:
    """Where the contact's country came from, in words."""
    return {"address": "the address", "phone": "the phone number"}.get(
        contact.country_source, "Xero"
    )


def country_name(code: str) -> str:
    country = pycountry.countries.get(alpha_2=code) if code else None
    return getattr(country, "common_name", None) or getattr(country, "name", code)


@dataclass(frozen=True)
class Segment:
    """At most one of: a contact group, a tracking option, a country (optionally one region)."""

    contact_group_id: str = ""
    contact_group_name: str = ""
    tracking_category_id: str = ""
    tracking_option_id: str = ""
    tracking_label: str = ""
    country: str = ""
    region: str = ""

    @property
    def rank(self) -> Rank:
        if self.tracking_option_id:
            return Rank.TRACKING
        if self.contact_group_id:
            return Rank.CONTACT_GROUP
        if self.country and self.region:
            return Rank.COUNTRY_REGION
        if self.country:
            return Rank.COUNTRY
        return Rank.DEFAULT

    @property
    def key(self) -> tuple:
        """Two segments with the same key are the same segment (regions ignore case)."""
        return (
            self.contact_group_id,
            self.tracking_option_id,
            self.country,
            self.region.casefold(),
        )

    @property
    def xero_ref(self) -> tuple[str, str] | None:
        """The Xero object this segment names, which Xero may delete or archive."""
        if self.tracking_option_id:
            return (TRACKING, self.tracking_option_id)
        if self.contact_group_id:
            return (GROUP, self.contact_group_id)
        return None

    @property
    def label(self) -> str:
        rank = self.rank
        if rank == Rank.TRACKING:
            return self.tracking_label or self.tracking_option_id
        if rank == Rank.CONTACT_GROUP:
            return self.contact_group_name or self.contact_group_id
        if rank == Rank.COUNTRY_REGION:
            return f"{country_name(self.country)}, {self.region}"
        if rank == Rank.COUNTRY:
            return country_name(self.country)
        return "Everyone"

    def describe(self) -> str:
        """The segment in a sentence: "the contact group VIP"."""
        if self.rank == Rank.DEFAULT:
            return "the default"
        return f"the {RANK_NAMES[self.rank]} {self.label}"

    def reason(self, contact: ContactCard, tracking: Sequence[TrackingTag]) -> str | None:
        """Why this segment applies to the contact (and invoice), or None when it does not."""
        rank = self.rank
        if rank == Rank.TRACKING:
            if self.tracking_option_id in {tag.option_id for tag in tracking}:
                return f"Line items carry {self.label}"
            return None
        if rank == Rank.CONTACT_GROUP:
            if self.contact_group_id in contact.group_ids:
                return f"{contact.name} is in the contact group {self.label}"
            return None
        if self.country and self.country != contact.country:
            return None
        source = location_source(contact)
        if rank == Rank.COUNTRY_REGION:
            if self.region.strip().casefold() != contact.region.strip().casefold():
                return None
            return f"{contact.name} is in {self.label} (from {source})"
        if rank == Rank.COUNTRY:
            return f"{contact.name} is in {self.label} (from {source})"
        return "No segment applies, so the default"


def segment_gone_note(segment: Segment, *, how: str) -> str:
    """What a page says about a segment whose Xero group or option was `how` ("archived" or
    "deleted") in Xero."""
    name = f"{RANK_NAMES[segment.rank]} {segment.label}"
    return f"The {name} was {how} in Xero; the default is used instead."


@dataclass(frozen=True)
class Match:
    item: object  # a MessageTemplate, or a reminder schedule
    segment: Segment
    reason: str
    stage_specific: bool = False


def segments_rank(
    items: Iterable,
    *,
    contact: ContactCard,
    tracking: Sequence[TrackingTag] = (),
    gone: Container = frozenset(),
    stage_specific: Callable[[object], bool] = lambda item: False,
) -> list[Match]:
    """The items (each with `.segment` and `.pk`) that apply, best first, in PRECEDENCE order.

    `gone` holds the xero_refs of groups and options deleted or archived in Xero: they match
    nothing.
    """
    matches = []
    for item in items:
        segment = item.segment
        if segment.xero_ref in gone:
            continue
        reason = segment.reason(contact, tracking)
        if reason is not None:
            matches.append(Match(item, segment, reason, stage_specific(item)))
    return sorted(
        matches,
        key=lambda m: (
            -m.segment.rank,
            not m.stage_specific,
            m.segment.label.casefold(),
            m.item.pk,
        ),
    )


def match_explain(matches: Sequence[Match]) -> str:
    """Why the first match won: "Line items carry Region: North (tracking option beats the
    contact group VIP)"."""
    if not matches:
        return ""
    winner = matches[0]
    rivals = [m for m in matches[1:] if m.segment.key != winner.segment.key]
    beaten = next((m for m in rivals if m.segment.rank != Rank.DEFAULT), None)
    if beaten is None:
        return winner.reason
    if beaten.segment.rank < winner.segment.rank:
        return (
            f"{winner.reason} ({RANK_NAMES[winner.segment.rank]} beats {beaten.segment.describe()})"
        )
    return f"{winner.reason} (before {beaten.segment.describe()}: same rank, first by name)"


class SegmentFields(models.Model):
    """The segment of a message template or a reminder stage (abstract: its columns only)."""

    contact_group_id = models.CharField("Xero contact group ID", max_length=64, blank=True)
    contact_group_name = models.CharField(max_length=200, blank=True)
    tracking_category_id = models.CharField("Xero TrackingCategoryID", max_length=64, blank=True)
    tracking_option_id = models.CharField("Xero TrackingOptionID", max_length=64, blank=True)
    tracking_label = models.CharField(
        max_length=210, blank=True, help_text="Category and option, e.g. “Region: North”."
    )
    country = models.CharField(
        max_length=2, blank=True, help_text="ISO 3166 code of the contact's country, e.g. AU."
    )
    region = models.CharField(
        max_length=100,
        blank=True,
        help_text="State or region as written in Xero addresses, e.g. NSW (needs a country).",
    )

    class Meta:
        abstract = True

    @property
    def segment(self) -> Segment:
        return Segment(
            contact_group_id=self.contact_group_id,
            contact_group_name=self.contact_group_name,
            tracking_category_id=self.tracking_category_id,
            tracking_option_id=self.tracking_option_id,
            tracking_label=self.tracking_label,
            country=self.country,
            region=self.region,
        )

    def segment_errors(self) -> dict[str, list[str]]:
        """Normalise the country and region, and say what is wrong with the segment."""
        self.country = self.country.strip().upper()
        self.region = self.region.strip()
        errors: dict[str, list[str]] = {}
        chosen = [bool(self.contact_group_id), bool(self.tracking_option_id), bool(self.country)]
        if sum(chosen) > 1:
            errors["__all__"] = [
                "Choose one segment at most: a contact group, a tracking option or a country."
            ]
        if self.country and pycountry.countries.get(alpha_2=self.country) is None:
            errors["country"] = [f"“{self.country}” is not an ISO 3166 country code, e.g. AU."]
        if self.region and not self.country:
            errors["region"] = ["A region needs its country."]
        if self.tracking_option_id and not self.tracking_category_id:
            errors["tracking_category_id"] = ["A tracking option needs its tracking category."]
        return errors
