from django.conf import settings
from django.db import models
from django.utils import timezone

from connections.models import Tenant


class ApiToken(models.Model):
    """One person's key to the REST API, bound to one tenant.

    Only the SHA-256 of the token is stored: the token is shown once, when it is made, and can
    never be read back (a leaked database leaks no working key). A token works only while its
    owner is still a member of its tenant.
    """

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="api_tokens")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100, help_text="What it is for, e.g. “Accounts dashboard”.")
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    # The first characters, so people can tell their tokens apart without the secret part.
    prefix = models.CharField(max_length=12, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["tenant", "user"], name="apitoken_owner")]

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
