"""Keep each organisation's tracking options and contact groups in step with Xero, frugally.

Each list costs one GET of the organisation's call budget, so the reconciliation poll fetches
them only every few hours (billing_events' segments_refresh_if_due), or at the next poll after
a record named an option Dunwell had not seen. In between, the records already fetched teach
Dunwell for free: a contact (from a CONTACT webhook or the poll) carries its groups' ids, names
and status, and an invoice's line items carry their options' ids and names.

Xero lists only ACTIVE contact groups, and tracking categories and options that are ACTIVE or
(with includeArchived=true) ARCHIVED; whatever it no longer lists was deleted. A template or
reminder schedule for such a group or option stops matching (snapshots/segments.py), so the
default is used and the pages say why.
"""

from django.db import transaction
from django.utils import timezone

from connections.xero import XeroClient
from snapshots.fields import invoice_tracking_options
from snapshots.models import XeroContactGroup, XeroTrackingOption

_ACTIVE, _ARCHIVED, _DELETED = "ACTIVE", "ARCHIVED", "DELETED"


def _status(value, *, allowed) -> str:
    status = str(value or _ACTIVE).upper()
    return status if status in allowed else _ACTIVE


def _options_of(categories: list[dict]) -> dict[str, dict]:
    """Option rows by TrackingOptionID; an archived or deleted category takes its options along."""
    options = {}
    allowed = (_ACTIVE, _ARCHIVED, _DELETED)
    for category in categories:
        category_status = _status(category.get("Status"), allowed=allowed)
        for option in category.get("Options") or []:
            option_id = str(option.get("TrackingOptionID") or "")
            if not option_id or not category.get("TrackingCategoryID"):
                continue
            option_status = _status(option.get("Status"), allowed=allowed)
            options[option_id] = {
                "category_id": str(category["TrackingCategoryID"]),
                "category_name": str(category.get("Name") or "")[:100],
                "option_name": str(option.get("Name") or "")[:100],
                "status": option_status if category_status == _ACTIVE else category_status,
            }
    return options


def _options_store(connection, options: dict[str, dict], *, update: tuple[str, ...]) -> None:
    rows = [
        XeroTrackingOption(
            tenant=connection.tenant,
            xero_tenant_id=connection.xero_tenant_id,
            option_id=option_id,
            **fields,
        )
        for option_id, fields in options.items()
    ]
    if not rows:
        return
    if update:
        XeroTrackingOption.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["xero_tenant_id", "option_id"],
            update_fields=[*update, "updated_at"],
        )
    else:
        XeroTrackingOption.objects.bulk_create(rows, ignore_conflicts=True)


def _groups_store(connection, groups: dict[str, dict]) -> None:
    if not groups:
        return
    XeroContactGroup.objects.bulk_create(
        [
            XeroContactGroup(
                tenant=connection.tenant,
                xero_tenant_id=connection.xero_tenant_id,
                group_id=group_id,
                **fields,
            )
            for group_id, fields in groups.items()
        ],
        update_conflicts=True,
        unique_fields=["xero_tenant_id", "group_id"],
        update_fields=["name", "status", "updated_at"],
    )


def _groups_of(listed: list[dict]) -> dict[str, dict]:
    return {
        str(group["ContactGroupID"]): {
            "name": str(group.get("Name") or "")[:200],
            "status": _status(group.get("Status"), allowed=(_ACTIVE, _DELETED)),
        }
        for group in listed
        if group.get("ContactGroupID")
    }


def segments_refresh(*, connection, client: XeroClient) -> None:
    """Fetch the organisation's tracking categories and contact groups (two GETs) and store
    them; what Xero no longer lists is marked deleted. Call outside any transaction; when it
    returns, the lists are stored (the caller notes when to fetch them again)."""
    options = _options_of(client.get_tracking_categories(include_archived=True))
    groups = _groups_of(client.get_contact_groups())
    now = timezone.now()
    with transaction.atomic():
        _options_store(
            connection, options, update=("category_id", "category_name", "option_name", "status")
        )
        XeroTrackingOption.objects.filter(xero_tenant_id=connection.xero_tenant_id).exclude(
            option_id__in=options
        ).update(status=_DELETED, updated_at=now)
        _groups_store(connection, groups)
        XeroContactGroup.objects.filter(xero_tenant_id=connection.xero_tenant_id).exclude(
            group_id__in=groups
        ).update(status=_DELETED, updated_at=now)


def segments_learn(*, connection, invoices=(), contacts=()) -> bool:
    """Store the groups fetched contacts carry and the options fetched invoices carry (new ones
    only: an invoice does not say whether an option was archived). Only the full lists decide
    that a group is gone; a deleted group never comes back (Xero gives a new group a new id).
    True when an option was never seen before: the next poll should fetch the full lists."""
    groups = _groups_of(
        [group for contact in contacts for group in contact.get("ContactGroups") or []]
    )
    deleted = XeroContactGroup.objects.filter(
        xero_tenant_id=connection.xero_tenant_id, group_id__in=groups, status=_DELETED
    ).values_list("group_id", flat=True)
    for group_id in deleted:
        groups[group_id]["status"] = _DELETED
    options = {
        option["option_id"]: {
            "category_id": option["category_id"],
            "category_name": option["category"][:100],
            "option_name": option["option"][:100],
            "status": _ACTIVE,
        }
        for invoice in invoices
        for option in invoice_tracking_options(invoice)
        if option["category_id"]
    }
    known = set(
        XeroTrackingOption.objects.filter(
            xero_tenant_id=connection.xero_tenant_id, option_id__in=options
        ).values_list("option_id", flat=True)
    )
    new_options = {option_id: o for option_id, o in options.items() if option_id not in known}
    if groups or new_options:
        with transaction.atomic():
            _groups_store(connection, groups)
            _options_store(connection, new_options, update=())
    return bool(new_options)
