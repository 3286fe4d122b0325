from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from billing_events.reminders import sweeps_run_now
from connections.models import Tenant
from snapshots.selectors import invoice_numbers


class Command(BaseCommand):
    help = (
        "Run the daily reminder run now, for one tenant or all: exactly what the schedule does "
        "at the tenant's send time, and like it at most once a day per organisation. Prints the "
        "reminders it queued."
    )

    def add_arguments(self, parser):
        which = parser.add_mutually_exclusive_group(required=True)
        which.add_argument("--tenant", metavar="SLUG", help="The tenant's slug.")
        which.add_argument(
            "--all", action="store_true", dest="every_tenant", help="Every active tenant."
        )

    def handle(self, *args, tenant, every_tenant, **options):
        tenants = Tenant.objects.filter(is_active=True).order_by("slug")
        if not every_tenant:
            tenants = tenants.filter(slug=tenant)
            if not tenants:
                raise CommandError(f"No active tenant has the slug {tenant!r}.")
        for one in tenants:
            self._report(one, sweeps_run_now(tenant=one, as_of=timezone.now()))

    def _report(self, tenant, sweeps) -> None:
        if not sweeps:
            self.stdout.write(f"{tenant.slug}: no connected Xero organisation.")
        for sweep in sweeps:
            where = f"{tenant.slug} / {sweep.organisation}"
            run = sweep.run
            if not sweep.started:
                self.stdout.write(
                    f"{where}: nothing queued: today's run ({run.local_date}) already ran or is "
                    f"under way ({run.get_status_display().lower()}, {run.reminders_sent} "
                    "reminders so far)."
                )
                continue
            numbers = invoice_numbers(
                tenant=tenant, invoice_ids=[r.invoice_id for r in sweep.queued]
            )
            self.stdout.write(f"{where}: {len(sweep.queued)} reminders queued ({run.local_date}).")
            for reminder in sweep.queued:
                number = numbers.get(reminder.invoice_id, reminder.invoice_id)
                self.stdout.write(f"  {number}: {reminder.occurrence}")
            if run.status == run.Status.PARTIAL:
                self.stdout.write("  More are due: the worker continues the run in a minute.")
            elif run.status == run.Status.FAILED:
                self.stdout.write(f"  Stopped: {run.last_error} The worker retries it later.")
