"""HTTP face of the sandbox Twilio and SendGrid, and the phone screens."""

import json

from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from sandbox import sendgrid_fake, twilio_fake
from sandbox.forms import FaultForm, ReplyForm
from sandbox.models import Email, SmsMessage, TwilioFault
from sandbox.twilio_fake import TwilioApiError


def _twilio_error(error: TwilioApiError) -> JsonResponse:
    return JsonResponse(error.body(), status=error.status)


@csrf_exempt
@require_http_methods(["GET", "POST"])
def messages(request, account_sid):
    try:
        account = twilio_fake.account_authenticate(
            account_sid=account_sid, authorization=request.headers.get("Authorization", "")
        )
        if request.method == "GET":
            return JsonResponse(twilio_fake.messages_list(account=account, query=request.GET))
        message = twilio_fake.message_create(account=account, form=request.POST)
    except TwilioApiError as error:
        return _twilio_error(error)
    return JsonResponse(twilio_fake.message_json(message), status=201)


@csrf_exempt
@require_GET
def account(request, account_sid):
    """The Account fetch Dunwell's onboarding uses to check credentials (api.v2010.account)."""
    try:
        found = twilio_fake.account_authenticate(
            account_sid=account_sid, authorization=request.headers.get("Authorization", "")
        )
    except TwilioApiError as error:
        return _twilio_error(error)
    return JsonResponse(
        {
            "sid": found.account_sid,
            "friendly_name": found.friendly_name,
            "status": "active",
            "type": "Full",
            "uri": f"/{twilio_fake.API_VERSION}/Accounts/{found.account_sid}.json",
        }
    )


@csrf_exempt
@require_GET
def message(request, account_sid, message_sid):
    try:
        account = twilio_fake.account_authenticate(
            account_sid=account_sid, authorization=request.headers.get("Authorization", "")
        )
    except TwilioApiError as error:
        return _twilio_error(error)
    found = SmsMessage.objects.filter(account=account, sid=message_sid).first()
    if found is None:
        return _twilio_error(TwilioApiError(404, 20404, f"Message {message_sid} was not found"))
    return JsonResponse(twilio_fake.message_json(found))


@csrf_exempt
@require_POST
def mail_send(request):
    try:
        sendgrid_fake.key_check(authorization=request.headers.get("Authorization", ""))
        try:
            payload = json.loads(request.body)
        except ValueError:
            raise sendgrid_fake.SendGridError(400, "Invalid JSON") from None
        email = sendgrid_fake.mail_send(payload=payload)
    except sendgrid_fake.SendGridError as error:
        return JsonResponse(error.body(), status=error.status)
    return HttpResponse(status=202, headers={"X-Message-Id": email.message_id})


@require_GET
def outbox(request):
    return render(request, "sandbox/outbox.html", {"emails": Email.objects.all()[:100]})


@require_GET
def phones(request):
    context = {
        "phones": twilio_fake.phones_list(),
        "faults": TwilioFault.objects.order_by("-pk"),
        "fault_form": FaultForm(),
    }
    return render(request, "sandbox/phones.html", context)


@require_GET
def phone(request, number):
    context = {
        "number": number,
        # Not "messages": base.html shows that name as Django's flash messages.
        "texts": twilio_fake.phone_messages(number=number),
        "form": ReplyForm(),
    }
    return render(request, "sandbox/phone.html", context)


@require_POST
def phone_reply(request, number):
    form = ReplyForm(request.POST)
    if form.is_valid():
        twilio_fake.reply_send(number=number, body=form.cleaned_data["body"])
    return redirect("sandbox:phone", number=number)


@require_POST
def fault_add(request):
    form = FaultForm(request.POST)
    if form.is_valid():
        form.save()
    return redirect("sandbox:phones")


@require_POST
def faults_clear(request):
    TwilioFault.objects.all().delete()
    return redirect("sandbox:phones")
