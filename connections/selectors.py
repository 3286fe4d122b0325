"""Reads on Xero grants and connections."""

from dataclasses import dataclass, field
from datetime import timedelta

from django.db import connection as db_connection
from django.db.models import Q, QuerySet
from django.utils import timezone

from connections.models import Tenant, XeroConnection, XeroGrant


def connections_active() -> QuerySet[XeroConnection]:
    """Organisations Dunwell may call now, across all tenants (for schedules and webhooks)."""
    return XeroConnection.objects.filter(
        status=XeroConnection.Status.ACTIVE, tenant__is_active=True
    ).select_related("grant", "tenant")


def connection_for_xero_tenant(xero_tenant_id: str) -> XeroConnection | None:
    """The active connection a webhook's `tenantId` routes to (FACTS.md "Xero: webhooks")."""
    return connections_active().filter(xero_tenant_id=xero_tenant_id).first()


_ROUTE = """
SELECT c.xero_tenant_id, c.tenant_id
FROM connections_xeroconnection AS c JOIN connections_tenant AS t ON t.id = c.tenant_id
WHERE c.status = %s AND t.is_active = %s AND c.xero_tenant_id IN ({ids})
"""


def tenant_ids_for_xero_tenants(xero_tenant_ids) -> dict[str, int]:
    """`tenantId` → Dunwell tenant id of the active connections among them, in one query.

    What the webhook receiver needs to route a delivery. The filter of connections_active()
    (a test holds the two together), written as SQL: the ORM took ~1.3 ms of CPU per request to
    compose it, a fifth of the webhook's (bench/RESULTS.md "Webhook ingest"). It loads no grant,
    so no token is decrypted on the request Xero is timing.
    """
    ids = list(xero_tenant_ids)
    if not ids:
        return {}
    sql = _ROUTE.format(ids=", ".join(["%s"] * len(ids)))
    with db_connection.cursor() as cursor:
        cursor.execute(sql, [XeroConnection.Status.ACTIVE.value, True, *ids])
        return dict(cursor.fetchall())


def connections_for_tenant(*, tenant: Tenant) -> QuerySet[XeroConnection]:
    """The tenant's organisations that are not disconnected."""
    return (
        XeroConnection.objects.filter(tenant=tenant)
        .exclude(status=XeroConnection.Status.DISCONNECTED)
        .select_related("grant")
    )


def connections_needing_reconnect(*, tenant: Tenant) -> QuerySet[XeroConnection]:
    return connections_for_tenant(tenant=tenant).filter(
        Q(status=XeroConnection.Status.NEEDS_RECONNECT)
        | Q(grant__status=XeroGrant.Status.NEEDS_RECONNECT)
    )


def connection_attached_elsewhere(*, xero_tenant_id: str, tenant: Tenant) -> bool:
    return (
        XeroConnection.objects.filter(xero_tenant_id=xero_tenant_id)
        .exclude(status=XeroConnection.Status.DISCONNECTED)
        .exclude(tenant=tenant)
        .exists()
    )


def grants_due_keep_alive(*, older_than: timedelta) -> QuerySet[XeroGrant]:
    """Active grants still backing an organisation whose refresh token is getting old."""
    return XeroGrant.objects.filter(
        status=XeroGrant.Status.ACTIVE,
        last_refreshed_at__lt=timezone.now() - older_than,
        connections__status=XeroConnection.Status.ACTIVE,
    ).distinct()


def grants_with_live_connections() -> QuerySet[XeroGrant]:
    """Active grants through which at least one organisation is active."""
    return XeroGrant.objects.filter(
        status=XeroGrant.Status.ACTIVE,
        connections__status=XeroConnection.Status.ACTIVE,
        tenant__is_active=True,
    ).distinct()


# --- the organisation customers hear from -------------------------------------------------------

# What a text to a customer says instead of an organisation's name when no single organisation
# can be told apart (an unknown sender on a number several organisations share): naming one
# would risk naming the wrong one, and the tenant's own name is for staff only.
NAME_FOR_UNKNOWN_ORGANISATION = "Accounts team"


def organisation_of(*, tenant: Tenant, xero_tenant_id: str) -> XeroConnection | None:
    """The tenant's organisation with this Xero tenantId: its live row, else its latest one (a
    disconnected organisation's invoices still have a name)."""
    rows = XeroConnection.objects.filter(tenant=tenant, xero_tenant_id=xero_tenant_id)
    live = rows.exclude(status=XeroConnection.Status.DISCONNECTED).first()
    return live or rows.order_by("-connected_at").first()


def organisation_for_customers(*, tenant: Tenant, xero_tenant_ids) -> XeroConnection | None:
    """The one organisation a text to a customer speaks for, decided the same way every time:
    the organisation of the customer's contacts when they are all in one; else the tenant's only
    organisation when it has one; else None (say NAME_FOR_UNKNOWN_ORGANISATION)."""
    ids = set(xero_tenant_ids)
    if len(ids) == 1:
        return organisation_of(tenant=tenant, xero_tenant_id=ids.pop())
    if ids:
        return None
    live = list(connections_for_tenant(tenant=tenant)[:2])
    return live[0] if len(live) == 1 else None


def names_for_customers(connection: XeroConnection | None) -> dict[str, str]:
    """The organisation's name and signature as message template values."""
    if connection is None:
        return {
            "organisation_name": NAME_FOR_UNKNOWN_ORGANISATION,
            "signature": NAME_FOR_UNKNOWN_ORGANISATION,
        }
    return {
        "organisation_name": connection.name_for_customers,
        "signature": connection.signature_for_customers,
    }


# --- organisations: shown and chosen wherever it matters ---------------------------------------


@dataclass(frozen=True)
class Organisation:
    id: str  # Xero's tenantId: stable across reconnects, and what every snapshot is keyed by
    name: str


@dataclass(frozen=True)
class Organisations:
    """A tenant's Xero organisations, as every list and look-up shows and asks for them.

    With one connected organisation nothing extra is shown; with several, lists get an
    organisation column and filter, and a look-up that matches several organisations asks which.
    """

    connected: tuple[Organisation, ...]
    # Every organisation the tenant has had, disconnected ones too: old rows keep their name.
    names: dict[str, str] = field(default_factory=dict)

    @property
    def several(self) -> bool:
        return len(self.connected) > 1

    @property
    def choices(self) -> list[tuple[str, str]]:
        return [(organisation.id, organisation.name) for organisation in self.connected]

    def name(self, xero_tenant_id: str) -> str:
        return self.names.get(xero_tenant_id, "")

    def get(self, xero_tenant_id: str) -> Organisation | None:
        """The tenant's own organisation with this id; None for anyone else's."""
        if xero_tenant_id not in self.names:
            return None
        return Organisation(xero_tenant_id, self.names[xero_tenant_id])


def organisations_of(*, tenant: Tenant) -> Organisations:
    rows = XeroConnection.objects.filter(tenant=tenant).order_by("connected_at", "pk")
    names, connected = {}, {}
    for xero_tenant_id, name, status in rows.values_list("xero_tenant_id", "name", "status"):
        names[xero_tenant_id] = name  # the latest connection's name wins
        if status != XeroConnection.Status.DISCONNECTED:
            connected[xero_tenant_id] = name
    ordered = sorted(connected.items(), key=lambda item: (item[1].casefold(), item[0]))
    return Organisations(
        connected=tuple(Organisation(id_, name) for id_, name in ordered), names=names
    )
