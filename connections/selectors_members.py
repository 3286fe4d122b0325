"""Reads for the members page and the invitation link."""

from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.http import Http404
from django.utils.timezone import now

from connections.members import invitation_token_hash
from connections.models import Invitation, Membership, Tenant


def members_of_tenant(*, tenant: Tenant) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(tenant=tenant)
        .select_related("user")
        .order_by("role", "user__email")
    )


def invitations_open(*, tenant: Tenant) -> QuerySet[Invitation]:
    return Invitation.objects.filter(
        tenant=tenant, accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=now()
    ).select_related("invited_by")


def invitation_for_token(*, token: str) -> Invitation:
    """The invitation a link names, used or not (the page explains which), or 404."""
    invitation = (
        Invitation.objects.select_related("tenant")
        .filter(token_hash=invitation_token_hash(token), tenant__is_active=True)
        .first()
    )
    if invitation is None:
        raise Http404("No such invitation")
    return invitation


def account_exists_for(*, email: str) -> bool:
    return get_user_model().objects.filter(username__iexact=email).exists()
