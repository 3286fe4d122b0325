"""Writes on tenants and their members, and on their Xero grants and connections."""

import json
import logging
from contextlib import suppress
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.utils.text import slugify

from connections import oauth
from connections.fields import decrypt, encrypt
from connections.models import Membership, Tenant, XeroConnection, XeroGrant
from connections.ratelimit import budget_backend
from connections.selectors import (
    connection_attached_elsewhere,
    connections_for_tenant,
    grants_due_keep_alive,
    grants_with_live_connections,
)
from connections.xero import (
    REFRESH_AHEAD,
    XeroClient,
    XeroError,
    XeroReconnectRequired,
    connections_list,
)
from connections.xero_format import iana_timezone

logger = logging.getLogger(__name__)


def _unique_slug(name: str) -> str:
    base = slugify(name)[:50] or "tenant"
    slug, n = base, 1
    while Tenant.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


@transaction.atomic
def tenant_create(*, name: str, owner_email: str, **fields) -> tuple[Tenant, Membership]:
    """Create a tenant and make `owner_email` its owner, creating that user if needed.

    Only what this layer knows; dashboard.services.tenant_open adds the default message
    templates and reminder schedule, and is what the entry points call."""
    User = get_user_model()
    email = User.objects.normalize_email(owner_email).lower()
    user, _ = User.objects.get_or_create(username=email, defaults={"email": email})
    tenant = Tenant.objects.create(name=name, slug=_unique_slug(name), **fields)
    membership = Membership.objects.create(user=user, tenant=tenant, role=Membership.Role.OWNER)
    return tenant, membership


# --- Xero grants and connections ----------------------------------------------------------------


class ConnectError(Exception):
    """A step of "Connect to Xero" failed; `reason` picks the page that explains it."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


# A consent waits in the session while the owner picks organisations; its access token lives
# 30 minutes (FACTS.md), so a choice made later has to start again.
PENDING_CONSENT_MAX_AGE = timedelta(minutes=25)


def grant_refresh(*, grant: XeroGrant) -> XeroGrant:
    """Swap the grant's token pair for a new one, exactly once however many workers ask.

    Xero rotates the refresh token on every refresh and revokes a reused one after a 30-minute
    grace (FACTS.md), so: lock the row, re-read it, and if its refresh token is no longer the one
    the caller saw, another worker has already refreshed — use its pair. Otherwise ask Xero and
    save the new pair in the same transaction. `durable=True` because a caller's rollback must
    never undo a rotation Xero has already made.
    """
    revoked = None
    with transaction.atomic(durable=True):
        locked = XeroGrant.objects.select_for_update().get(pk=grant.pk)
        if locked.status != XeroGrant.Status.ACTIVE:
            revoked = locked.last_error or "the Xero grant needs reconnecting"
        elif locked.refresh_token == grant.refresh_token:
            try:
                tokens = oauth.token_refresh(refresh_token=locked.refresh_token)
            except oauth.OAuthError as error:
                if error.error != "invalid_grant":
                    raise XeroError(
                        error.status,
                        f"token refresh failed ({error.error})",
                        permanent=error.error == "invalid_client",
                    ) from None
                revoked = "Xero revoked the grant (invalid_grant)"
                locked.status = XeroGrant.Status.NEEDS_RECONNECT
                locked.last_error = revoked
                locked.save(update_fields=["status", "last_error"])
                # Every organisation reached through a dead grant is dead with it: saying so on
                # the connections keeps them out of polls and makes their status the one truth.
                _connections_need_reconnect(locked.connections.all(), reason=revoked)
            else:
                locked.access_token = tokens.access_token
                locked.refresh_token = tokens.refresh_token or locked.refresh_token
                locked.expires_at = tokens.expires_at
                locked.scopes = tokens.scopes
                locked.last_refreshed_at = timezone.now()
                locked.last_error = ""
                locked.save()
    if revoked:
        raise XeroReconnectRequired(None, revoked)
    return locked


def _connections_need_reconnect(connections, *, reason: str) -> int:
    return connections.filter(status=XeroConnection.Status.ACTIVE).update(
        status=XeroConnection.Status.NEEDS_RECONNECT, last_error=reason[:500]
    )


def grants_keep_alive() -> int:
    """Refresh every grant quiet for XERO_KEEPALIVE_DAYS, so no refresh token reaches 60 days."""
    refreshed = 0
    for grant in grants_due_keep_alive(older_than=timedelta(days=settings.XERO_KEEPALIVE_DAYS)):
        try:
            grant_refresh(grant=grant)
        except XeroError as error:
            logger.warning("xero keep-alive failed grant=%s error=%s", grant.pk, error.detail)
        else:
            refreshed += 1
    return refreshed


MISSING_FROM_CONNECTIONS = (
    "Xero no longer lists this organisation among Dunwell's connections "
    "(the app was disconnected in Xero)."
)


def grant_connections_check(*, grant: XeroGrant) -> int:
    """Ask Xero which organisations the grant still reaches (GET /connections); any it no longer
    lists must be reconnected (FACTS.md "Xero: OAuth 2.0" — there is no disconnect webhook).
    Returns how many organisations were marked."""
    if grant.expires_at - timezone.now() < REFRESH_AHEAD:
        grant = grant_refresh(grant=grant)
    listed = {reached["tenantId"] for reached in connections_list(access_token=grant.access_token)}
    return _connections_need_reconnect(
        grant.connections.exclude(xero_tenant_id__in=listed), reason=MISSING_FROM_CONNECTIONS
    )


def grants_connections_check() -> int:
    """Daily: one GET /connections per grant still backing an organisation."""
    marked = 0
    for grant in grants_with_live_connections():
        try:
            marked += grant_connections_check(grant=grant)
        except XeroError as error:
            logger.warning(
                "xero connections check failed grant=%s status=%s", grant.pk, error.status
            )
    return marked


def xero_calls_prune() -> int:
    return budget_backend().prune()


def consent_complete(*, tenant: Tenant, query: dict, started: dict | None) -> dict:
    """Check the OAuth redirect, exchange the code, and describe what the consent reaches.

    Saves nothing: the answer (tokens encrypted) waits in the session for `connections_attach`,
    so an error here, or an owner who walks away, leaves no half-made grant.
    """
    if query.get("error"):
        # Xero answers a cancelled consent with error=access_denied (RFC 6749 §4.1.2.1).
        reason = "denied" if query["error"] == "access_denied" else "xero_refused"
        raise ConnectError(reason, query["error"])
    if not started or not constant_time_compare(query.get("state", ""), started["state"]):
        raise ConnectError("state")
    if started["tenant_id"] != tenant.pk:
        raise ConnectError("tenant_switched")
    if not query.get("code"):
        raise ConnectError("xero_refused", "no code")
    try:
        tokens = oauth.token_exchange(code=query["code"], code_verifier=started["code_verifier"])
    except oauth.OAuthError as error:
        raise ConnectError("token_exchange", error.error) from None
    if not tokens.refresh_token:
        raise ConnectError("no_offline_access")
    grant = XeroGrant(tenant=tenant, access_token=tokens.access_token, expires_at=tokens.expires_at)
    try:
        reached = connections_list(
            access_token=tokens.access_token, auth_event_id=tokens.auth_event_id
        )
        organisations = [_organisation_describe(grant, connection) for connection in reached]
    except XeroError as error:
        raise ConnectError("xero_unreachable", error.detail) from None
    if not organisations:
        raise ConnectError("no_organisations")
    sealed = {
        "access_token": tokens.access_token,
        "refresh_token": tokens.refresh_token,
        "expires_at": tokens.expires_at.isoformat(),
        "scopes": tokens.scopes,
        "auth_event_id": tokens.auth_event_id,
    }
    return {
        "tenant_id": tenant.pk,
        "created_at": timezone.now().isoformat(),
        "tokens": encrypt(json.dumps(sealed)),
        "organisations": organisations,
    }


def _organisation_details(organisation: dict) -> dict:
    """What Dunwell keeps of GET /Organisation (FACTS.md): its country reads local phone numbers,
    its zone sets reminder days, its currency is the home one."""
    return {
        "country_code": (organisation.get("CountryCode") or "").upper()[:2],
        "timezone": iana_timezone(organisation.get("Timezone")),
        "currency": organisation.get("BaseCurrency") or "",
    }


def _organisation_describe(grant: XeroGrant, reached: dict) -> dict:
    connection = XeroConnection(grant=grant, xero_tenant_id=reached["tenantId"])
    organisation = XeroClient(connection).get_organisation()
    return {
        "xero_tenant_id": reached["tenantId"],
        "connection_id": reached["id"],
        "name": organisation.get("Name") or reached.get("tenantName") or reached["tenantId"],
        **_organisation_details(organisation),
        "attached_elsewhere": connection_attached_elsewhere(
            xero_tenant_id=reached["tenantId"], tenant=grant.tenant
        ),
    }


def organisation_refresh(*, connection: XeroConnection, client: XeroClient) -> XeroConnection:
    """Take the organisation's name, country, time zone and currency from Xero again (one GET):
    they change in Xero's settings, and a stale country would misread every local number.
    The name customers see, when an owner set one, is Dunwell's own and stays."""
    organisation = client.get_organisation()
    details = _organisation_details(organisation)
    if organisation.get("Name"):
        details["name"] = str(organisation["Name"])[:200]
    XeroConnection.objects.filter(pk=connection.pk).update(**details)
    for field, value in details.items():
        setattr(connection, field, value)
    return connection


def organisation_names_save(
    *, connection: XeroConnection, customer_name: str, reply_signature: str
) -> XeroConnection:
    """The organisation's name for customers and its reply signature (blank: Xero's name)."""
    connection.customer_name = customer_name.strip()
    connection.reply_signature = reply_signature.strip()
    connection.save(update_fields=["customer_name", "reply_signature"])
    return connection


def consent_pending(*, tenant: Tenant, pending: dict | None) -> dict:
    """The consent waiting in the session, if it is this tenant's and still fresh."""
    if not pending or pending.get("tenant_id") != tenant.pk:
        raise ConnectError("expired")
    created_at = datetime.fromisoformat(pending["created_at"])
    if timezone.now() - created_at > PENDING_CONSENT_MAX_AGE:
        raise ConnectError("expired")
    return pending


def connections_attach(
    *, tenant: Tenant, user, pending: dict, xero_tenant_ids: list[str]
) -> list[XeroConnection]:
    """Save the grant and the chosen organisations together, or nothing at all."""
    chosen = [o for o in pending["organisations"] if o["xero_tenant_id"] in xero_tenant_ids]
    if not chosen:
        raise ConnectError("nothing_chosen")
    sealed = json.loads(decrypt(pending["tokens"]))
    try:
        with transaction.atomic():
            had_live = connections_for_tenant(tenant=tenant).exists()
            grant = XeroGrant.objects.create(
                tenant=tenant,
                created_by=user,
                access_token=sealed["access_token"],
                refresh_token=sealed["refresh_token"],
                expires_at=datetime.fromisoformat(sealed["expires_at"]),
                scopes=sealed["scopes"],
                auth_event_id=sealed["auth_event_id"],
            )
            attached = [_connection_attach(tenant, grant, organisation) for organisation in chosen]
            if not had_live:
                _tenant_adopt_defaults(tenant, attached[0])
    except IntegrityError:
        # Another tenant attached the organisation between the check and the insert: the
        # unique constraint on live connections is what really decides (never twice).
        raise ConnectError("attached_elsewhere") from None
    return attached


def _connection_attach(tenant: Tenant, grant: XeroGrant, organisation: dict) -> XeroConnection:
    xero_tenant_id = organisation["xero_tenant_id"]
    if connection_attached_elsewhere(xero_tenant_id=xero_tenant_id, tenant=tenant):
        raise ConnectError("attached_elsewhere", organisation["name"])
    # Reconnecting an organisation this tenant had before reuses its row, keeping its history.
    connection = (
        XeroConnection.objects.filter(tenant=tenant, xero_tenant_id=xero_tenant_id)
        .order_by("-connected_at")
        .first()
    ) or XeroConnection(tenant=tenant, xero_tenant_id=xero_tenant_id)
    connection.grant = grant
    connection.connection_id = organisation["connection_id"]
    connection.name = organisation["name"][:200]
    connection.country_code = organisation["country_code"]
    connection.timezone = organisation["timezone"]
    connection.currency = organisation["currency"]
    connection.status = XeroConnection.Status.ACTIVE
    connection.last_error = ""
    connection.connected_at = timezone.now()
    connection.disconnected_at = None
    connection.save()
    return connection


def _tenant_adopt_defaults(tenant: Tenant, connection: XeroConnection) -> None:
    """A tenant's first organisation tells where its customers' phones and clocks are."""
    fields = ["timezone"]
    tenant.timezone = connection.timezone
    if len(connection.country_code) == 2 and connection.country_code.isalpha():
        tenant.default_country = connection.country_code
        fields.append("default_country")
    tenant.save(update_fields=fields)


def connection_disconnect(*, connection: XeroConnection) -> None:
    """Tell Xero to forget the organisation, then mark it disconnected (the row stays)."""
    if connection.status != XeroConnection.Status.DISCONNECTED:
        # A dead grant has nothing left to revoke at Xero: just mark the row.
        with suppress(XeroReconnectRequired):
            XeroClient(connection).disconnect()
    XeroConnection.objects.filter(pk=connection.pk).update(
        status=XeroConnection.Status.DISCONNECTED, disconnected_at=timezone.now()
    )
