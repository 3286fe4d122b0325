"""Who may call the REST API and how often: API tokens, tenant membership, throttling.

Kept apart from api_tokens/api.py because DRF imports these classes (named in REST_FRAMEWORK) while
rest_framework.views is still loading, so this module must not import it.
"""

from django.core.cache import caches
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.permissions import BasePermission
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from api_tokens.models import ApiToken
from api_tokens.services import api_token_authenticate
from connections.models import Membership
from connections.tenancy import resolve_membership


class BearerTokenAuthentication(BaseAuthentication):
    keyword = b"bearer"

    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword:
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(
                "Send the header as “Authorization: Bearer <token>”."
            )
        try:
            raw = parts[1].decode("ascii")
        except UnicodeError:
            raise exceptions.AuthenticationFailed("This token is not valid.") from None
        api_token = api_token_authenticate(raw=raw)
        if api_token is None:
            raise exceptions.AuthenticationFailed("This token is not valid or has been revoked.")
        return api_token.user, api_token

    def authenticate_header(self, request):
        # Makes DRF answer 401 (not 403) to a request without credentials.
        return 'Bearer realm="api"'


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = BearerTokenAuthentication
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An API token made on the API tokens page (/api-tokens/).",
        }


def api_membership(request) -> Membership | None:
    """The membership a request acts through: the token's, else the session's current one."""
    if isinstance(request.auth, ApiToken):
        return request.auth.membership
    return resolve_membership(request)


class IsTenantMember(BasePermission):
    message = "You are not a member of any active tenant."

    def has_permission(self, request, view):
        # Without credentials DRF turns a refusal into 401 (NotAuthenticated) by itself.
        return getattr(request, "membership", None) is not None


class IsOwnerToWrite(IsTenantMember):
    """Anyone in the tenant may read; only an owner may change."""

    def has_permission(self, request, view):
        if not super().has_permission(request, view):
            return False
        if request.method in ("GET", "HEAD", "OPTIONS") or request.membership.is_owner:
            return True
        self.message = "Only an owner of this tenant can change this."
        return False


# --- how fast ----------------------------------------------------------------------------------


class TokenRateThrottle(SimpleRateThrottle):
    """API_THROTTLE_RATE per token; a browser session is counted per user."""

    scope = "api"

    @property
    def cache(self):
        return caches["api_throttle"]

    def get_rate(self):
        # Read at call time (not class creation) so settings overrides take effect.
        return api_settings.DEFAULT_THROTTLE_RATES[self.scope]

    def get_cache_key(self, request, view):
        if isinstance(request.auth, ApiToken):
            ident = f"token-{request.auth.pk}"
        elif request.user and request.user.is_authenticated:
            ident = f"user-{request.user.pk}"
        else:
            ident = self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}
