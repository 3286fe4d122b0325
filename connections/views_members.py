"""The members page (owners manage, staff may look) and the public invitation link."""

from django.contrib import messages
from django.contrib.auth import login
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from connections.forms_team import InvitationForm, NewAccountForm
from connections.htmx import is_htmx
from connections.members import (
    TeamRuleError,
    email_configured,
    invitation_accept,
    invitation_accept_as_new_user,
    invitation_create,
    invitation_revoke,
    membership_remove,
    membership_role_change,
)
from connections.models import Invitation, Membership
from connections.selectors_members import (
    account_exists_for,
    invitation_for_token,
    invitations_open,
    members_of_tenant,
)
from connections.tenancy import activate_tenant, get_for_tenant, tenant_required

# The link is shown once, on the page after it was made; only its hash is stored.
NEW_INVITATION_KEY = "dunwell_new_invitation"


@tenant_required
def members(request):
    return _members_page(request, invitation_form=InvitationForm())


def _members_page(request, *, invitation_form):
    context = {
        "members": members_of_tenant(tenant=request.tenant),
        "invitations": invitations_open(tenant=request.tenant),
        "invitation_form": invitation_form,
        "new_invitation": request.session.pop(NEW_INVITATION_KEY, None),
        "email_configured": email_configured(),
    }
    return render(request, "connections/members.html", context)


@require_POST
@tenant_required(owner=True)
def member_invite(request):
    form = InvitationForm(request.POST)
    if not form.is_valid():
        return _members_page(request, invitation_form=form)
    try:
        new = invitation_create(
            tenant=request.tenant, email=form.cleaned_data["email"], invited_by=request.user
        )
    except TeamRuleError as error:
        form.add_error("email", str(error))
        return _members_page(request, invitation_form=form)
    request.session[NEW_INVITATION_KEY] = {
        "email": new.invitation.email,
        "link": new.link,
        "emailed": new.emailed,
    }
    return redirect("members")


def _after_change(request, *, notice: str = "", error: str = ""):
    """htmx gets the refreshed members table; a plain form post is redirected to the page."""
    if not is_htmx(request):
        if error:
            messages.error(request, error)
        else:
            messages.success(request, notice)
        return redirect("members")
    context = {
        "members": members_of_tenant(tenant=request.tenant),
        "notice": notice,
        "error": error,
    }
    return render(request, "connections/members_table.html", context)


def _reload(request, url_name: str):
    """After changing your own membership the whole page is stale: load `url_name` afresh."""
    if is_htmx(request):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = reverse(url_name)
        return response
    return redirect(url_name)


def _membership_of_tenant(request, membership_id) -> Membership:
    return get_for_tenant(
        Membership.objects.select_related("user"), request.tenant, pk=membership_id
    )


@require_POST
@tenant_required(owner=True)
def member_remove(request, membership_id):
    membership = _membership_of_tenant(request, membership_id)
    try:
        membership_remove(membership=membership)
    except TeamRuleError as error:
        return _after_change(request, error=str(error))
    if membership.user_id == request.user.pk:
        # You left the team, so nothing of it is yours to see any more.
        messages.success(request, f"You left {request.tenant.name}.")
        return _reload(request, "home")
    return _after_change(request, notice=f"{membership.user.email} was removed from the team.")


@require_POST
@tenant_required(owner=True)
def member_role(request, membership_id):
    membership = _membership_of_tenant(request, membership_id)
    try:
        membership_role_change(membership=membership, role=request.POST.get("role", ""))
    except TeamRuleError as error:
        return _after_change(request, error=str(error))
    notice = f"{membership.user.email} is now {membership.get_role_display().lower()}."
    if membership.user_id == request.user.pk:
        messages.success(request, notice)
        return _reload(request, "members")
    return _after_change(request, notice=notice)


@require_POST
@tenant_required(owner=True)
def member_invitation_revoke(request, invitation_id):
    invitation = get_for_tenant(Invitation, request.tenant, pk=invitation_id)
    invitation_revoke(invitation=invitation)
    messages.success(request, f"The invitation for {invitation.email} no longer works.")
    return redirect("members")


def invitation_accept_page(request, token):
    """Public: the token is the authority. Logged in → join; no account yet → choose a password."""
    invitation = invitation_for_token(token=token)
    if not invitation.is_open:
        return render(
            request, "connections/invitation_closed.html", {"invitation": invitation}, status=410
        )
    context = {"invitation": invitation}
    if request.user.is_authenticated:
        if request.method == "POST":
            return _join(request, invitation, user=request.user)
    elif not account_exists_for(email=invitation.email):
        form = NewAccountForm(request.POST or None, email=invitation.email)
        if request.method == "POST" and form.is_valid():
            return _join(request, invitation, password=form.cleaned_data["password1"])
        context["form"] = form
    return render(request, "connections/invitation_accept.html", context)


def _join(request, invitation, *, user=None, password=None):
    try:
        if user is None:
            membership = invitation_accept_as_new_user(invitation=invitation, password=password)
            login(request, membership.user, backend="django.contrib.auth.backends.ModelBackend")
        else:
            membership = invitation_accept(invitation=invitation, user=user)
    except TeamRuleError as error:
        return render(
            request,
            "connections/invitation_closed.html",
            {"invitation": invitation, "reason": str(error)},
            status=410,
        )
    activate_tenant(request, membership.tenant)
    messages.success(request, f"Welcome to {membership.tenant.name}.")
    return redirect("home")
