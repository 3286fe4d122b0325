from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from connections.forms import OrganisationNamesForm
from connections.oauth import authorization_request
from connections.selectors import connections_for_tenant
from connections.services import (
    ConnectError,
    connection_disconnect,
    connections_attach,
    consent_complete,
    consent_pending,
    organisation_names_save,
)
from connections.tenancy import activate_tenant, get_for_tenant, memberships_of, tenant_required
from connections.xero import XeroError


@tenant_required
def home(request):
    return render(request, "connections/home.html", {"tenant": request.tenant})


@require_POST
@tenant_required
def switch_tenant(request, slug):
    # Candidates are the user's own memberships only: another tenant's slug is a 404.
    membership = get_object_or_404(memberships_of(request.user), tenant__slug=slug)
    activate_tenant(request, membership.tenant)
    return redirect("home")


# --- Connect to Xero ----------------------------------------------------------------------------

OAUTH_SESSION_KEY = "xero_oauth_started"
PENDING_SESSION_KEY = "xero_consent_pending"
# Where to land after the organisations are chosen (the onboarding wizard passes ?next=).
NEXT_SESSION_KEY = "xero_connect_next"


def _local_path(value: str) -> str:
    """`value` if it is a path on this site (never another host: an open redirect), else ""."""
    is_local = value.startswith("/") and url_has_allowed_host_and_scheme(value, allowed_hosts=None)
    return value if is_local else ""


# reason -> (what happened, what to do). Every failed step ends on one of these pages.
CONNECT_ERRORS = {
    "denied": (
        "You cancelled the connection in Xero, so Dunwell has no access to your organisation.",
        "When you are ready, choose Connect to Xero again and select Allow access.",
    ),
    "xero_refused": (
        "Xero did not complete the connection.",
        "Try connecting again. If it keeps failing, check that Dunwell's Xero app is set up "
        "with this server's callback address.",
    ),
    "state": (
        "This link from Xero does not belong to a connection started in this browser session, "
        "or it was already used. Nothing was connected.",
        "Start again from the connections page.",
    ),
    "tenant_switched": (
        "You switched to another Dunwell account while connecting. Nothing was connected.",
        "Start again from the connections page of the account you want to connect.",
    ),
    "token_exchange": (
        "Xero did not accept the sign-in code. Nothing was connected.",
        "Try again. If it keeps failing, the Xero app's client id or secret may be wrong.",
    ),
    "xero_unreachable": (
        "Dunwell could not read your organisations from Xero. Nothing was connected.",
        "Xero may be busy: wait a minute and connect again.",
    ),
    "no_organisations": (
        "Your Xero login did not give access to any organisation.",
        "Connect again and tick at least one organisation on Xero's consent page.",
    ),
    "no_offline_access": (
        "Xero gave Dunwell access for 30 minutes only (no offline_access scope), which is too "
        "short to watch your invoices. Nothing was connected.",
        "Check XERO_SCOPES includes offline_access, then connect again.",
    ),
    "expired": (
        "Too much time passed (or another tab finished) before you chose the organisations.",
        "Start again: the connection takes less than a minute.",
    ),
    "nothing_chosen": (
        "No organisation was chosen, so nothing was connected.",
        "Start again and tick at least one organisation.",
    ),
    "attached_elsewhere": (
        "That Xero organisation is already connected to another Dunwell account. One "
        "organisation can only send its messages through one account. Nothing was connected.",
        "Ask the owner of the other account to disconnect it first, or connect a different "
        "organisation.",
    ),
}


def _connect_error(request, error: ConnectError):
    happened, advice = CONNECT_ERRORS[error.reason]
    organisation = error.detail if error.reason == "attached_elsewhere" else ""
    context = {"happened": happened, "advice": advice, "organisation": organisation}
    return render(request, "connections/xero_error.html", context, status=400)


@tenant_required(owner=True)
def xero_connections(request, *, invalid: OrganisationNamesForm | None = None):
    connections = connections_for_tenant(tenant=request.tenant).order_by("name")
    rows = [
        (
            c,
            invalid
            if invalid and invalid.instance.pk == c.pk
            else OrganisationNamesForm(instance=c),
        )
        for c in connections
    ]
    status = 400 if invalid else 200
    return render(request, "connections/xero_connections.html", {"rows": rows}, status=status)


def _connection_for_owner(request, xero_connection_id: int, *, refusal: str):
    # Look up first: another tenant's connection is a 404 for everyone, owners or not.
    connection = get_for_tenant(
        connections_for_tenant(tenant=request.tenant), request.tenant, pk=xero_connection_id
    )
    if not request.membership.is_owner:
        raise PermissionDenied(refusal)
    return connection


@require_POST
@tenant_required
def xero_names(request, xero_connection_id):
    """An owner sets the name customers see and the reply signature of one organisation."""
    connection = _connection_for_owner(
        request, xero_connection_id, refusal="Only an owner can change what customers see."
    )
    form = OrganisationNamesForm(request.POST, instance=connection)
    if not form.is_valid():
        return xero_connections(request, invalid=form)
    organisation_names_save(connection=connection, **form.cleaned_data)
    messages.success(request, f"Customers now see {connection.name_for_customers}.")
    return redirect("xero-connections")


@tenant_required(owner=True)
def xero_connect(request):
    started = authorization_request()
    request.session[OAUTH_SESSION_KEY] = {
        "state": started.state,
        "code_verifier": started.code_verifier,
        "tenant_id": request.tenant.pk,
    }
    request.session[NEXT_SESSION_KEY] = _local_path(request.GET.get("next", ""))
    return redirect(started.url)


@tenant_required(owner=True)
def xero_callback(request):
    # pop: a state is good for one redirect only, so a replayed callback is refused.
    started = request.session.pop(OAUTH_SESSION_KEY, None)
    try:
        pending = consent_complete(tenant=request.tenant, query=request.GET, started=started)
    except ConnectError as error:
        return _connect_error(request, error)
    request.session[PENDING_SESSION_KEY] = pending
    return redirect("xero-choose")


@tenant_required(owner=True)
def xero_choose(request):
    try:
        pending = consent_pending(
            tenant=request.tenant, pending=request.session.get(PENDING_SESSION_KEY)
        )
        if request.method != "POST":
            return render(request, "connections/xero_choose.html", {"pending": pending})
        request.session.pop(PENDING_SESSION_KEY)
        attached = connections_attach(
            tenant=request.tenant,
            user=request.user,
            pending=pending,
            xero_tenant_ids=request.POST.getlist("xero_tenant_id"),
        )
    except ConnectError as error:
        return _connect_error(request, error)
    names = ", ".join(connection.name for connection in attached)
    messages.success(request, f"Connected to Xero: {names}.")
    return redirect(request.session.pop(NEXT_SESSION_KEY, "") or "xero-connections")


@require_POST
@tenant_required
def xero_disconnect(request, xero_connection_id):
    connection = _connection_for_owner(
        request, xero_connection_id, refusal="Only an owner can disconnect Xero."
    )
    try:
        connection_disconnect(connection=connection)
    except XeroError:
        messages.error(
            request,
            f"Xero did not confirm that {connection.name} is disconnected, so it is still "
            "connected. Try again in a few minutes.",
        )
    else:
        messages.success(request, f"Disconnected {connection.name} from Dunwell.")
    return redirect("xero-connections")
