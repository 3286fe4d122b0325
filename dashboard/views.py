from urllib.parse import urlencode

from django.contrib import messages as flash
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from connections.htmx import is_htmx
from connections.models import MessagingSettings, XeroConnection
from connections.selectors import connections_for_tenant
from connections.tenancy import tenant_required
from dashboard.onboarding import (
    WIZARD_STEPS,
    onboarding_test_check,
    onboarding_test_send,
    review_summary,
    templates_review_record,
    wizard_next_url,
    wizard_progress,
    wizard_step_after,
)
from dashboard.selectors import dashboard_figures
from messaging.forms import SendGridForm, TestMessageForm, TwilioCredentialsForm
from messaging.services import messaging_settings_save, twilio_settings_verify_save


@tenant_required
def dashboard(request):
    figures = dashboard_figures(tenant=request.tenant, now=timezone.now())
    return render(request, "dashboard/dashboard.html", {"figures": figures})


# --- the onboarding wizard: owners only; staff see the home checklist ---------------


def _wizard_page(request, key: str, context: dict):
    steps = wizard_progress(tenant=request.tenant, current=key)
    number = next(state.number for state in steps if state.current)
    context = {
        "steps": steps,
        "step": steps[number - 1],
        "step_count": len(WIZARD_STEPS),
        "next_url": wizard_step_after(key),
        **context,
    }
    return render(request, f"dashboard/welcome_{key}.html", context)


def _messaging_row(tenant):
    return MessagingSettings.objects.filter(tenant=tenant).first()


@tenant_required(owner=True)
def welcome(request):
    return redirect(wizard_next_url(tenant=request.tenant))


@tenant_required(owner=True)
def welcome_xero(request):
    connections = connections_for_tenant(tenant=request.tenant).filter(
        status=XeroConnection.Status.ACTIVE
    )
    connect_url = reverse("xero-connect") + "?" + urlencode({"next": reverse("welcome-xero")})
    return _wizard_page(
        request, "xero", {"connections": connections.order_by("name"), "connect_url": connect_url}
    )


@tenant_required(owner=True)
def welcome_twilio(request):
    form = TwilioCredentialsForm(request.POST or None, instance=_messaging_row(request.tenant))
    if request.method == "POST" and form.is_valid():
        accepted, words = twilio_settings_verify_save(
            tenant=request.tenant, values=form.cleaned_data
        )
        if accepted:
            flash.success(request, words)
            return redirect(wizard_step_after("twilio"))
        form.add_error(None, words)
    return _wizard_page(request, "twilio", {"form": form})


@tenant_required(owner=True)
def welcome_sendgrid(request):
    form = SendGridForm(request.POST or None, instance=_messaging_row(request.tenant))
    if request.method == "POST" and form.is_valid():
        messaging_settings_save(tenant=request.tenant, values=form.cleaned_data)
        flash.success(request, "Email settings saved.")
        return redirect(wizard_step_after("sendgrid"))
    return _wizard_page(request, "sendgrid", {"form": form})


@tenant_required(owner=True)
def welcome_review(request):
    if request.method == "POST":
        templates_review_record(tenant=request.tenant)
        return redirect(wizard_step_after("templates"))
    return _wizard_page(request, "templates", {"summary": review_summary(tenant=request.tenant)})


@tenant_required(owner=True)
def welcome_test(request):
    """Send the test text, then wait here for its delivery report (htmx asks again)."""
    form = TestMessageForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        accepted, words = onboarding_test_send(
            tenant=request.tenant, phone=form.cleaned_data["phone"]
        )
        if accepted:
            flash.success(request, words)
            return redirect("welcome-test")
        form.add_error(None, words)
    context = {
        "form": form,
        "sent": onboarding_test_check(tenant=request.tenant),
        "next_url": wizard_next_url(tenant=request.tenant),
    }
    if is_htmx(request):
        return render(request, "dashboard/_welcome_test_status.html", context)
    return _wizard_page(request, "test", context)
