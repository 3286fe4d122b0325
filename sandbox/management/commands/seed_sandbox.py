from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from connections.models import MessagingSettings, Tenant
from sandbox.seed import sandbox_seed, segment_templates_for_demo, twilio_account_for_demo

DEMO_TENANT_SLUG = "demo-bakery"


class Command(BaseCommand):
    help = "Create the sandbox's demo organisations and wire the demo tenant to the sandbox."

    def handle(self, *args, **options):
        if not settings.DUNWELL_SANDBOX:
            raise CommandError("The sandbox is off: run with DUNWELL_SANDBOX=1.")
        organisations = sandbox_seed()
        tenant = Tenant.objects.filter(slug=DEMO_TENANT_SLUG).first()
        if tenant is not None:
            account = twilio_account_for_demo()
            MessagingSettings.objects.update_or_create(
                tenant=tenant,
                defaults={
                    "twilio_account_sid": account.account_sid,
                    "twilio_auth_token": account.auth_token,
                    "twilio_from_number": account.from_number,
                    "sendgrid_api_key": "SG.sandbox." + account.auth_token,
                    "sendgrid_from_email": "accounts@demo-bakery.test",
                },
            )
            segment_templates_for_demo(tenant=tenant, organisation=organisations[0])
        base = f"{settings.PUBLIC_BASE_URL}/sandbox"
        names = ", ".join(organisation.name for organisation in organisations)
        self.stdout.write(
            f"\nSandbox ready ({names}). Open:\n"
            f"  Xero console:  {base}/\n"
            f"  Phones:        {base}/twilio/phones/\n"
            f"  Email outbox:  {base}/sendgrid/outbox/\n"
        )
