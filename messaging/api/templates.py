"""Message templates: list, create, read, change, delete — validated exactly as in the editor."""

import json

from django.core.exceptions import ObjectDoesNotExist
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response

from api_tokens.api import Conflict, TenantAPIView
from connections.tenancy import for_tenant, get_for_tenant
from messaging import rendering, template_editor
from messaging.languages import language_choices
from messaging.models import SENDING_CHANNELS, Kind, MessageTemplate
from messaging.selectors import templates_noted
from snapshots.serializers import SegmentInput, SegmentOutput, segment_context

# The channels a template can be for (not the send log's "none" pseudo-channel).
TEMPLATE_CHANNELS = [(channel.value, channel.label) for channel in SENDING_CHANNELS]

DUPLICATE = OpenApiResponse(
    description="Another template already has this kind, channel, segment, stage and language."
)

_FIELD_HELP = {
    "body": "Text with {{ variable }} placeholders: "
    + ", ".join(rendering.VARIABLES)
    + ". Nothing else (no dots, filters or tags).",
    "subject": "Email only; the same placeholders as the body.",
    "content_variables": "WhatsApp only: placeholder number → text, "
    'e.g. {"1": "{{ first_name }}"}.',
    "language": "ISO 639-1 code of the language it is written in, for contacts who prefer it; "
    "blank for your default language.",
    "fallback_to_email": "SMS and WhatsApp only: when the text ends undelivered or failed, the "
    "same notification goes once by email, with the active email template.",
}


class TemplateOutput(SegmentOutput):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=Kind.choices)
    channel = serializers.ChoiceField(choices=TEMPLATE_CHANNELS)
    segment_note = serializers.CharField(
        help_text="Set when the contact group or tracking option was archived or deleted in "
        "Xero: the template then matches nobody and the default is used instead",
    )
    reminder_stage = serializers.CharField()
    language = serializers.CharField(help_text=_FIELD_HELP["language"])
    subject = serializers.CharField()
    body = serializers.CharField()
    content_sid = serializers.CharField()
    content_variables = serializers.DictField(child=serializers.CharField())
    fallback_to_email = serializers.BooleanField(help_text=_FIELD_HELP["fallback_to_email"])
    is_active = serializers.BooleanField()
    updated_at = serializers.DateTimeField()


class TemplateInput(SegmentInput):
    """Field shapes only; the rules (variables, per-channel needs, one segment at most) are
    MessageTemplate.clean's."""

    kind = serializers.ChoiceField(choices=Kind.choices)
    channel = serializers.ChoiceField(choices=TEMPLATE_CHANNELS)
    reminder_stage = serializers.CharField(required=False, allow_blank=True, max_length=40)
    language = serializers.ChoiceField(
        choices=language_choices(),
        required=False,
        allow_blank=True,
        help_text=_FIELD_HELP["language"],
    )
    subject = serializers.CharField(
        required=False, allow_blank=True, max_length=300, help_text=_FIELD_HELP["subject"]
    )
    body = serializers.CharField(
        required=False, allow_blank=True, trim_whitespace=False, help_text=_FIELD_HELP["body"]
    )
    content_sid = serializers.CharField(required=False, allow_blank=True, max_length=34)
    content_variables = serializers.DictField(
        child=serializers.CharField(allow_blank=True, trim_whitespace=False),
        required=False,
        help_text=_FIELD_HELP["content_variables"],
    )
    fallback_to_email = serializers.BooleanField(
        required=False, help_text=_FIELD_HELP["fallback_to_email"]
    )
    is_active = serializers.BooleanField(required=False)


class TemplatePatch(TemplateInput):
    kind = serializers.ChoiceField(choices=Kind.choices, required=False)
    channel = serializers.ChoiceField(choices=TEMPLATE_CHANNELS, required=False)


def _output(template: MessageTemplate) -> dict:
    noted = templates_noted(tenant=template.tenant, templates=[template])[0]
    return TemplateOutput(noted, context=segment_context(template.tenant)).data


def _save(template: MessageTemplate, values: dict) -> MessageTemplate:
    for name, value in values.items():
        setattr(template, name, value)
    try:
        return template_editor.template_save(template=template)
    except template_editor.DuplicateRule as exc:
        raise Conflict(exc.messages[0], code="duplicate_template") from None


class TemplateListApi(TenantAPIView):
    class TemplateFilter(serializers.Serializer):
        kind = serializers.ChoiceField(choices=Kind.choices, required=False)
        channel = serializers.ChoiceField(choices=TEMPLATE_CHANNELS, required=False)

    @extend_schema(
        operation_id="templates_list",
        summary="List message templates",
        description="Every message template of your tenant, optionally of one kind or channel, "
        "each with a note when its segment is gone from Xero.",
        parameters=[TemplateFilter],
        responses=TemplateOutput(many=True),
    )
    def get(self, request):
        filters = self.TemplateFilter(data=request.query_params)
        filters.is_valid(raise_exception=True)
        templates = for_tenant(MessageTemplate.objects.all(), request.tenant).filter(
            **filters.validated_data
        )
        noted = templates_noted(tenant=request.tenant, templates=templates)
        context = segment_context(request.tenant)
        return Response(TemplateOutput(noted, many=True, context=context).data)

    @extend_schema(
        operation_id="templates_create",
        summary="Create a message template",
        description="Checked exactly as in the template editor: only variables the kind can "
        "fill, what each channel needs, one segment at most.",
        request=TemplateInput,
        responses={201: TemplateOutput, 409: DUPLICATE},
    )
    def post(self, request):
        values = TemplateInput(data=request.data)
        values.is_valid(raise_exception=True)
        template = _save(MessageTemplate(tenant=request.tenant), values.validated_data)
        return Response(_output(template), status=status.HTTP_201_CREATED)


class TemplateDetailApi(TenantAPIView):
    def _template(self, request, template_id) -> MessageTemplate:
        return get_for_tenant(MessageTemplate, request.tenant, pk=template_id)

    @extend_schema(
        operation_id="templates_retrieve",
        responses=TemplateOutput,
        summary="Get one message template",
        description="One message template of your tenant, with its segment.",
    )
    def get(self, request, template_id):
        return Response(_output(self._template(request, template_id)))

    @extend_schema(
        operation_id="templates_update",
        summary="Replace a message template",
        description="Replaces the whole template: fields left out take their defaults. Checked "
        "as in the template editor.",
        request=TemplateInput,
        responses={200: TemplateOutput, 409: DUPLICATE},
    )
    def put(self, request, template_id):
        template = self._template(request, template_id)
        values = TemplateInput(data=request.data)
        values.is_valid(raise_exception=True)
        # A PUT replaces the whole template: what it leaves out takes the model's default.
        blank = MessageTemplate()
        defaults = {name: getattr(blank, name) for name in TemplateInput().fields}
        saved = _save(template, {**defaults, **values.validated_data})
        return Response(_output(saved))

    @extend_schema(
        operation_id="templates_partial_update",
        summary="Change a message template",
        description="Changes only the fields sent. Checked as in the template editor.",
        request=TemplatePatch,
        responses={200: TemplateOutput, 409: DUPLICATE},
    )
    def patch(self, request, template_id):
        template = self._template(request, template_id)
        values = TemplatePatch(data=request.data, partial=True)
        values.is_valid(raise_exception=True)
        return Response(_output(_save(template, values.validated_data)))

    @extend_schema(
        operation_id="templates_destroy",
        responses={204: None},
        summary="Delete a message template",
        description="Messages already sent from it stay in the send log.",
    )
    def delete(self, request, template_id):
        template_editor.template_delete(template=self._template(request, template_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class TemplatePreviewApi(TenantAPIView):
    class PreviewInput(serializers.Serializer):
        body = serializers.CharField(
            trim_whitespace=False, allow_blank=True, help_text=_FIELD_HELP["body"]
        )
        channel = serializers.ChoiceField(choices=TEMPLATE_CHANNELS, default="sms")
        subject = serializers.CharField(
            required=False, allow_blank=True, max_length=300, help_text=_FIELD_HELP["subject"]
        )
        content_variables = serializers.DictField(
            child=serializers.CharField(allow_blank=True, trim_whitespace=False),
            required=False,
            help_text=_FIELD_HELP["content_variables"],
        )
        invoice_id = serializers.CharField(
            required=False,
            max_length=64,
            help_text="Xero InvoiceID of one of your invoices. Without it, your latest invoice "
            "(or an example, before the first one) is used.",
        )

    class PreviewOutput(serializers.Serializer):
        class SmsSize(serializers.Serializer):
            encoding = serializers.ChoiceField(choices=["GSM-7", "UCS-2"])
            segments = serializers.IntegerField()
            characters = serializers.IntegerField()
            per_segment = serializers.IntegerField()
            ucs2_characters = serializers.ListField(
                source="forcing",
                child=serializers.CharField(),
                help_text="The characters that force UCS-2 (fewer characters per segment)",
            )

        sample = serializers.CharField(
            source="sample_label", help_text="Whose values filled the template"
        )
        subject = serializers.CharField()
        text = serializers.CharField()
        sms = SmsSize(allow_null=True, help_text="SMS only: how the text is sent")

    @extend_schema(
        operation_id="templates_preview",
        summary="Preview a template",
        request=PreviewInput,
        responses=PreviewOutput,
        description="Render a template as the message would read, without saving it.",
    )
    def post(self, request):
        values = self.PreviewInput(data=request.data)
        values.is_valid(raise_exception=True)
        draft = values.validated_data
        try:
            preview = template_editor.template_preview(
                tenant=request.tenant,
                channel=draft["channel"],
                subject=draft.get("subject", ""),
                body=draft["body"],
                content_variables=json.dumps(draft.get("content_variables", {})),
                invoice_id=draft.get("invoice_id"),
            )
        except ObjectDoesNotExist:
            raise NotFound("No invoice of yours has this invoice_id.") from None
        if preview.errors:
            raise ValidationError(preview.errors)
        preview.text = "".join(chunk.text for chunk in preview.chunks)
        return Response(self.PreviewOutput(preview).data)
