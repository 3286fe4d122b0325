"""Make, check and revoke API tokens."""

import hashlib
import secrets
from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from api_tokens.models import ApiToken
from connections.models import Membership, Tenant

# Recognisable in logs and by secret scanners; the rest is 256 bits from the OS.
TOKEN_PREFIX = "dw_"
# Letters and digits without the look-alikes 0 O 1 l I, so a token read off a screen is typed
# right, and without - and _, so a double click selects all of it. 44 of these 57 are 256 bits.
# A token is checked by its digest only, so tokens made with the earlier alphabet still work.
TOKEN_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
TOKEN_LENGTH = 44
# last_used_at is a hint for people, not an audit log: one write a minute per token is plenty.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def token_digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def api_token_create(*, tenant: Tenant, user, name: str) -> tuple[ApiToken, str]:
    """A new token and its secret, which the caller shows once and never stores."""
    raw = TOKEN_PREFIX + "".join(secrets.choice(TOKEN_ALPHABET) for _ in range(TOKEN_LENGTH))
    api_token = ApiToken.objects.create(
        tenant=tenant, user=user, name=name, token_hash=token_digest(raw), prefix=raw[:10]
    )
    return api_token, raw


def api_token_revoke(*, api_token: ApiToken) -> bool:
    """Stop the token working at once; revoking twice is harmless."""
    revoked = ApiToken.objects.filter(pk=api_token.pk, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    return revoked == 1


def api_token_authenticate(*, raw: str) -> ApiToken | None:
    """The live token for this secret, or None (unknown, revoked, or its owner left the tenant)."""
    api_token = (
        ApiToken.objects.select_related("tenant", "user")
        .filter(
            token_hash=token_digest(raw),
            revoked_at__isnull=True,
            tenant__is_active=True,
            user__is_active=True,
        )
        .first()
    )
    if api_token is None:
        return None
    membership = Membership.objects.filter(user=api_token.user, tenant=api_token.tenant).first()
    if membership is None:
        return None
    api_token.membership = membership
    now = timezone.now()
    last_used = api_token.last_used_at
    if last_used is None or last_used < now - LAST_USED_RESOLUTION:
        # A hint for people, so no lock and no write on most requests: the conditional UPDATE
        # only keeps two concurrent requests from both writing.
        ApiToken.objects.filter(
            Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_RESOLUTION),
            pk=api_token.pk,
        ).update(last_used_at=now)
    return api_token
