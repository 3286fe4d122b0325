"""The segment part of the REST API's templates and reminder stages."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from api_tokens.organisations import OrganisationOutput
from snapshots.segments import PRECEDENCE
from snapshots.selectors import segment_organisations

SEGMENT_HELP = (
    "At most one of: contact_group_id, tracking_option_id, country (with an optional "
    f"region). When several templates apply, the most specific wins: {PRECEDENCE}."
)


class SegmentInput(serializers.Serializer):
    """Whom a template (or a reminder stage) is for; names are filled in from Xero when left
    out."""

    contact_group_id = serializers.CharField(
        required=False, allow_blank=True, max_length=64, help_text=SEGMENT_HELP
    )
    contact_group_name = serializers.CharField(required=False, allow_blank=True, max_length=200)
    tracking_category_id = serializers.CharField(required=False, allow_blank=True, max_length=64)
    tracking_option_id = serializers.CharField(
        required=False, allow_blank=True, max_length=64, help_text="Xero TrackingOptionID"
    )
    tracking_label = serializers.CharField(
        required=False, allow_blank=True, max_length=210, help_text="e.g. “Region: North”"
    )
    country = serializers.CharField(
        required=False, allow_blank=True, max_length=2, help_text="ISO 3166 code, e.g. AU"
    )
    region = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=100,
        help_text="State or region as in Xero addresses, e.g. NSW; needs a country",
    )


@extend_schema_field(OrganisationOutput(allow_null=True))
class SegmentOrganisationField(serializers.Field):
    """Whose contact group or tracking option the segment is (several organisations may have a
    group of one name); null for a country or everyone. Needs the context of segment_context()."""

    def __init__(self, **kwargs):
        super().__init__(source="*", read_only=True, **kwargs)

    def to_representation(self, value):
        organisation = self.context["segment_organisations"].get(value.segment.xero_ref)
        return {"id": organisation.id, "name": organisation.name} if organisation else None


def segment_context(tenant) -> dict:
    """What serializers with a SegmentOrganisationField need."""
    return {"segment_organisations": segment_organisations(tenant=tenant)}


class SegmentOutput(serializers.Serializer):
    contact_group_id = serializers.CharField()
    contact_group_name = serializers.CharField()
    tracking_category_id = serializers.CharField()
    tracking_option_id = serializers.CharField()
    tracking_label = serializers.CharField()
    country = serializers.CharField()
    region = serializers.CharField()
    segment = serializers.CharField(source="segment.label", help_text="Whom it is for, in words")
    organisation = SegmentOrganisationField()
