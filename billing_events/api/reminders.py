"""The reminder schedule (read by anyone in the tenant, replaced by an owner) and what the next
days will send."""

from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.response import Response

from api_tokens.access import IsOwnerToWrite
from api_tokens.api import Conflict, TenantAPIView
from api_tokens.organisations import OrganisationChoiceField, OrganisationOutput
from billing_events.models import ReminderStage
from billing_events.reminders import (
    ScheduleConflict,
    reminder_defaults_create,
    reminder_schedule_replace,
    reminders_preview,
)
from connections.selectors import organisations_of
from snapshots.serializers import SegmentInput, SegmentOutput, segment_context


@extend_schema_field(
    {
        "type": "string",
        "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?$",
        "example": "09:00",
    }
)
class LocalTimeField(serializers.TimeField):
    """A wall-clock time in each organisation's own zone: OpenAPI's `format: time` would demand
    an offset (RFC 3339 full-time), which this time deliberately has not."""


class StageSerializer(SegmentInput):
    """A stage with a segment belongs to that segment's schedule, which replaces the default
    schedule (the stages without one) for the invoices it applies to."""

    key = serializers.SlugField(
        max_length=30,
        required=False,
        help_text="Names the stage in reminder templates and sent reminders; unique across all "
        "schedules. Left out, Dunwell makes one from the day (e.g. 3_days_before_due); send "
        "it back unchanged to keep a stage's templates and sent reminders",
    )
    label = serializers.CharField(max_length=100)
    offset_days = serializers.IntegerField(
        min_value=-365, max_value=365, help_text="Days after the due date; negative is before"
    )
    minimum_amount_due = serializers.DecimalField(
        max_digits=18, decimal_places=2, min_value=0, allow_null=True, required=False
    )
    repeat_every_days = serializers.IntegerField(
        min_value=1, max_value=365, allow_null=True, required=False
    )
    repeat_times = serializers.IntegerField(min_value=0, max_value=52, default=0)
    alert_team = serializers.BooleanField(default=False)
    is_active = serializers.BooleanField(default=True)


class ScheduleSerializer(serializers.Serializer):
    send_time = LocalTimeField(help_text="Local time of each organisation's daily run")
    skip_missed = serializers.BooleanField()
    reply_pause_days = serializers.IntegerField(min_value=0, max_value=365)
    excluded_group_ids = serializers.ListField(
        child=serializers.CharField(max_length=64), help_text="Xero ContactGroupIDs"
    )
    team_phones = serializers.ListField(
        child=serializers.CharField(max_length=32), help_text="The daily overdue digest by SMS"
    )
    team_emails = serializers.ListField(
        child=serializers.EmailField(), help_text="The daily overdue digest by email"
    )
    stages = StageSerializer(many=True)

    def validate_stages(self, stages):
        # Said per field here for a clear 400; the database constraints still decide (409).
        keys = [stage["key"] for stage in stages if stage.get("key")]
        if len(keys) != len(set(keys)):
            raise serializers.ValidationError("Two stages have the same key.")
        offsets = [(ReminderStage(**stage).segment.key, stage["offset_days"]) for stage in stages]
        if len(offsets) != len(set(offsets)):
            raise serializers.ValidationError(
                "Two stages of one schedule (the same segment) have the same offset_days."
            )
        return stages


class StageOutput(SegmentOutput, StageSerializer):
    pass


class ScheduleOutput(ScheduleSerializer):
    stages = StageOutput(many=True)


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _schedule(tenant) -> dict:
    settings = reminder_defaults_create(tenant=tenant)
    return {
        "send_time": settings.send_time,
        "skip_missed": settings.skip_missed,
        "reply_pause_days": settings.reply_pause_days,
        "excluded_group_ids": settings.excluded_group_ids,
        "team_phones": _lines(settings.team_phones),
        "team_emails": _lines(settings.team_emails),
        "stages": ReminderStage.objects.filter(tenant=tenant),
    }


def _schedule_output(tenant) -> dict:
    return ScheduleOutput(_schedule(tenant), context=segment_context(tenant)).data


class ReminderScheduleApi(TenantAPIView):
    permission_classes = [IsOwnerToWrite]

    @extend_schema(
        operation_id="reminder_schedule_retrieve",
        responses=ScheduleOutput,
        summary="Get the reminder schedule",
        description="The daily run's send time, who in the team is told about overdue "
        "invoices, and every reminder stage: the default schedule's and each segment's.",
    )
    def get(self, request):
        return Response(_schedule_output(request.tenant))

    @extend_schema(
        operation_id="reminder_schedule_update",
        summary="Replace the reminder schedule",
        request=ScheduleSerializer,
        responses={
            200: ScheduleOutput,
            409: OpenApiResponse(description="Two stages share a key or a number of days."),
        },
        description="Replace the schedule and its whole list of stages (owners only).",
    )
    def put(self, request):
        schedule = ScheduleSerializer(data=request.data)
        schedule.is_valid(raise_exception=True)
        values = dict(schedule.validated_data)
        stages = values.pop("stages")
        values["team_phones"] = "\n".join(values["team_phones"])
        values["team_emails"] = "\n".join(values["team_emails"])
        try:
            reminder_schedule_replace(tenant=request.tenant, values=values, stages=stages)
        except ScheduleConflict as exc:
            raise Conflict(str(exc), code="duplicate_stage") from None
        return Response(_schedule_output(request.tenant))


class RemindersPreviewApi(TenantAPIView):
    class PreviewQuery(serializers.Serializer):
        days = serializers.IntegerField(min_value=1, max_value=60, default=30)
        organisation = OrganisationChoiceField(default="")

    class PreviewDay(serializers.Serializer):
        class PreviewReminder(serializers.Serializer):
            organisation = OrganisationOutput()
            invoice_id = serializers.CharField(help_text="Xero InvoiceID")
            invoice_number = serializers.CharField()
            contact_name = serializers.CharField()
            stage = serializers.CharField()
            occurrence = serializers.CharField()
            amount_due = serializers.DecimalField(max_digits=18, decimal_places=2)
            currency = serializers.CharField()
            sends = serializers.BooleanField()
            reason = serializers.CharField(help_text="Why it will not be sent, if it will not")
            schedule = serializers.CharField(
                help_text="The schedule the invoice follows: the default, or a segment's"
            )

        day = serializers.DateField(help_text="The organisation's local day")
        reminders = PreviewReminder(many=True)

    @extend_schema(
        operation_id="reminders_preview",
        summary="Preview reminders",
        parameters=[PreviewQuery],
        responses=PreviewDay(many=True),
        description="What the schedule would send each day, assuming open invoices stay unpaid.",
    )
    def get(self, request):
        context = {"organisations": organisations_of(tenant=request.tenant)}
        query = self.PreviewQuery(data=request.query_params, context=context)
        query.is_valid(raise_exception=True)
        by_day = reminders_preview(
            tenant=request.tenant, as_of=timezone.now(), **query.validated_data
        )
        days = [{"day": day, "reminders": items} for day, items in by_day.items()]
        return Response(self.PreviewDay(days, many=True).data)
