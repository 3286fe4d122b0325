"""The sandbox must never be served by a production install by accident (docs/architecture.md)."""

from django.conf import settings
from django.core.checks import Error, Warning, register


@register(deploy=True)
def check_sandbox_not_in_production(app_configs, **kwargs):
    if not settings.DUNWELL_SANDBOX:
        return []
    if settings.DUNWELL_SANDBOX_FORCE:
        return [
            Warning(
                "The sandbox is mounted at /sandbox/: fake Xero and Twilio endpoints are public.",
                hint="Unset DUNWELL_SANDBOX and DUNWELL_SANDBOX_FORCE outside demos.",
                id="dunwell.W801",
            )
        ]
    return [
        Error(
            "DUNWELL_SANDBOX is on in a deployment.",
            hint="The sandbox fakes Xero and Twilio; set DUNWELL_SANDBOX=0 "
            "(or DUNWELL_SANDBOX_FORCE=1 for a public demo).",
            id="dunwell.E801",
        )
    ]
