"""Writes on a tenant's team: invitations by link, accepting them, roles, removal.

Two rules hold here and nowhere else: an invitation link works once, before it expires, and a
tenant always keeps at least one owner.
"""

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta
from smtplib import SMTPException

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.timezone import now

from connections.models import Invitation, Membership, Tenant

logger = logging.getLogger(__name__)

INVITATION_LIFETIME = timedelta(days=7)


class TeamRuleError(Exception):
    """A change the team's rules forbid; the message is shown to the user as it is."""


@dataclass(frozen=True)
class NewInvitation:
    invitation: Invitation
    link: str
    emailed: bool


def invitation_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def email_configured() -> bool:
    """config/settings.py defines MAILERS only when EMAIL_HOST (or EMAIL_BACKEND) is set."""
    return "default" in getattr(settings, "MAILERS", {})


def invitation_create(*, tenant: Tenant, email: str, invited_by: AbstractBaseUser) -> NewInvitation:
    """Make a single-use link for `email` to join `tenant` as staff, replacing any open one.

    The link is returned (and emailed when an email backend is configured); only its hash is kept.
    """
    email = get_user_model().objects.normalize_email(email).strip().lower()
    if Membership.objects.filter(tenant=tenant, user__email__iexact=email).exists():
        raise TeamRuleError(f"{email} is already a member of {tenant.name}.")
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        # The partial UniqueConstraint allows one open invitation per address; close the old one
        # first so that inviting again hands out a fresh link instead of failing.
        Invitation.objects.filter(
            tenant=tenant, email=email, accepted_at__isnull=True, revoked_at__isnull=True
        ).update(revoked_at=now())
        invitation = Invitation.objects.create(
            tenant=tenant,
            email=email,
            token_hash=invitation_token_hash(token),
            invited_by=invited_by,
            expires_at=now() + INVITATION_LIFETIME,
        )
    link = settings.PUBLIC_BASE_URL + reverse("invitation-accept", kwargs={"token": token})
    emailed = email_configured() and _invitation_email(invitation=invitation, link=link)
    return NewInvitation(invitation=invitation, link=link, emailed=emailed)


def _invitation_email(*, invitation: Invitation, link: str) -> bool:
    context = {"invitation": invitation, "link": link, "lifetime_days": INVITATION_LIFETIME.days}
    try:
        send_mail(
            subject=f"Join {invitation.tenant.name} on Dunwell",
            message=render_to_string("connections/email/invitation.txt", context),
            from_email=None,
            recipient_list=[invitation.email],
        )
    except (SMTPException, OSError) as error:
        # The owner still has the link on screen and is told to send it themselves.
        logger.warning(
            "invitation email failed tenant=%s invitation=%s error=%s",
            invitation.tenant_id,
            invitation.pk,
            type(error).__name__,
        )
        return False
    return True


def invitation_revoke(*, invitation: Invitation) -> None:
    Invitation.objects.filter(
        pk=invitation.pk, accepted_at__isnull=True, revoked_at__isnull=True
    ).update(revoked_at=now())


def invitation_accept(*, invitation: Invitation, user: AbstractBaseUser) -> Membership:
    """Use the invitation once: `user` joins its tenant as staff (an existing role is kept)."""
    with transaction.atomic():
        # The conditional UPDATE is the single-use point: of two concurrent accepts, one wins.
        claimed = Invitation.objects.filter(
            pk=invitation.pk,
            accepted_at__isnull=True,
            revoked_at__isnull=True,
            expires_at__gt=now(),
        ).update(accepted_at=now(), accepted_by=user)
        if claimed != 1:
            raise TeamRuleError(
                "This invitation link has already been used, was withdrawn or has expired. "
                "Ask the owner for a new one."
            )
        membership, _ = Membership.objects.get_or_create(
            user=user, tenant_id=invitation.tenant_id, defaults={"role": Membership.Role.STAFF}
        )
    return membership


def invitation_accept_as_new_user(*, invitation: Invitation, password: str) -> Membership:
    """Create the invited person's account with `password`, then accept for them.

    Only for an address with no account yet: setting the password of an existing account from a
    link the owner has also seen would let an owner take over someone's login.
    """
    User = get_user_model()
    taken = TeamRuleError(
        f"{invitation.email} already has a Dunwell login. Log in to accept the invitation."
    )
    if User.objects.filter(username__iexact=invitation.email).exists():
        raise taken
    try:
        with transaction.atomic():
            user = User.objects.create_user(
                username=invitation.email, email=invitation.email, password=password
            )
            return invitation_accept(invitation=invitation, user=user)
    except IntegrityError:
        # The same link submitted twice at once: the username is unique, the second one loses.
        raise taken from None


def _lock_owners(tenant: Tenant) -> list[Membership]:
    # Locks the owner rows (PostgreSQL); on SQLite the IMMEDIATE transaction serialises writers.
    # Without it two owners demoting each other at once could leave the tenant with none.
    return list(
        Membership.objects.select_for_update().filter(tenant=tenant, role=Membership.Role.OWNER)
    )


def _refuse_losing_last_owner(membership: Membership, *, action: str) -> None:
    owners = _lock_owners(membership.tenant)
    if membership.is_owner and len(owners) == 1:
        raise TeamRuleError(
            f"You cannot {action} {membership.user.email}: a team needs at least one owner. "
            "Make someone else an owner first."
        )


def membership_remove(*, membership: Membership) -> None:
    with transaction.atomic():
        _refuse_losing_last_owner(membership, action="remove")
        membership.delete()


def membership_role_change(*, membership: Membership, role: str) -> Membership:
    if role not in Membership.Role.values:
        raise TeamRuleError("Choose owner or staff.")
    with transaction.atomic():
        if role == Membership.Role.STAFF:
            _refuse_losing_last_owner(membership, action="make staff")
        membership.role = role
        membership.save(update_fields=["role"])
    return membership
