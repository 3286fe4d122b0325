from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from alerts.models import WeeklySummary
from alerts.weekly_summary import (
    summary_week,
    weekly_figures,
    weekly_summary_send,
    weekly_summary_text,
)
from connections.members import email_configured
from connections.models import Tenant


def _monday(value: str) -> date:
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"{value!r} is not a date like 2026-07-13.") from None
    if day.weekday() != 0:
        raise CommandError(f"{value} is a {day:%A}: a week starts on a Monday.")
    return day


class Command(BaseCommand):
    help = (
        "Print one tenant's weekly summary (last week's by default), or email it to its owners "
        "with --send (once per week, like the Monday schedule)."
    )

    def add_arguments(self, parser):
        parser.add_argument("slug", help="The tenant's slug (see the admin, or the switch menu).")
        parser.add_argument("--week", type=_monday, help="The Monday the week starts on.")
        parser.add_argument("--send", action="store_true", help="Email it to the owners.")

    def handle(self, *args, slug, week, send, **options):
        tenant = Tenant.objects.filter(slug=slug).first()
        if tenant is None:
            raise CommandError(f"No tenant has the slug {slug!r}.")
        week = week or summary_week(tenant=tenant, now=timezone.now())
        if not send:
            self.stdout.write(
                weekly_summary_text(figures=weekly_figures(tenant=tenant, week_start=week))
            )
            return
        if not email_configured():
            raise CommandError("No mail server is set up: set EMAIL_HOST (see README).")
        if weekly_summary_send(tenant=tenant, week_start=week):
            self.stdout.write(f"Emailed the summary of the week of {week} to the owners.")
            return
        row = WeeklySummary.objects.get(tenant=tenant, week_start=week)
        if row.sent_at:
            self.stdout.write(
                f"The summary of the week of {week} was already sent "
                f"({row.sent_at:%Y-%m-%d %H:%M} UTC)."
            )
        else:
            raise CommandError(f"The mail server refused it: {row.last_error}")
