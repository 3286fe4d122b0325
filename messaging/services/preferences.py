"""How one contact wants to be reached: channels and language."""

from collections.abc import Sequence

from connections.models import Tenant
from messaging.models import (
    SENDING_CHANNELS,
    ContactPreference,
)


def contact_preference_save(
    *,
    tenant: Tenant,
    contact_id: str,
    contact_name: str,
    channels: Sequence[str],
    language: str,
    by_user,
) -> ContactPreference:
    """How staff want one contact reached; no channels and no language mean the tenant's."""
    preference, _ = ContactPreference.objects.update_or_create(
        tenant=tenant,
        contact_id=contact_id,
        defaults={
            "contact_name": contact_name,
            "channels": [channel for channel in SENDING_CHANNELS if channel in channels],
            "language": language,
            "updated_by": by_user,
        },
    )
    return preference
