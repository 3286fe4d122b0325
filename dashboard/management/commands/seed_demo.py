from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.urls import reverse

from connections.models import Tenant
from dashboard.services import tenant_open

DEMO_EMAIL = "demo@dunwell.test"
DEMO_PASSWORD = "demo-dunwell"  # noqa: S105  (a published demo login, never used outside make run)


class Command(BaseCommand):
    help = "Create the demo tenant and user used by `make run` (idempotent)."

    def handle(self, *args, **options):
        if not Tenant.objects.filter(slug="demo-bakery").exists():
            tenant_open(
                name="Demo Bakery",
                owner_email=DEMO_EMAIL,
                timezone="Pacific/Auckland",
                default_country="NZ",
            )
            # Only a new demo user gets the published password: setting it again on every
            # `make run` would change its hash and so sign out every session, and would undo a
            # password someone chose.
            user = get_user_model().objects.get(username=DEMO_EMAIL)
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
        self.stdout.write(
            f"\nDemo ready. Open {settings.PUBLIC_BASE_URL}{reverse('login')}\n"
            f"  email:    {DEMO_EMAIL}\n  password: {DEMO_PASSWORD}\n"
        )
        # The offline Xero/Twilio (sandbox): demo organisations and the tenant's sandbox Twilio.
        if settings.DUNWELL_SANDBOX:
            call_command("seed_sandbox", stdout=self.stdout)
