import pytest
import time_machine

from billing_events.models import ReminderPause, ReminderSettings, ReminderStage
from tests.billing_events.reminder_helpers import import_at, local
from tests.billing_events.standin import StandInXero


@pytest.fixture
def organisation(new_connection, xero_api):
    StandInXero(xero_api)
    import_at(new_connection, "2026-12-01 08:00")
    with time_machine.travel(local("Pacific/Auckland", "2026-12-01 08:30"), tick=False):
        yield new_connection


SETTINGS = {"send_time": "07:30", "reply_pause_days": "5", "team_phones": "", "team_emails": ""}


def test_a_new_tenant_starts_with_the_default_schedule(tenant_a):
    stages = ReminderStage.objects.filter(tenant=tenant_a)
    assert [s.offset_days for s in stages] == [-7, 0, 1, 7, 14, 30]
    assert ReminderSettings.objects.get(tenant=tenant_a).reply_pause_days == 3


def test_the_page_shows_the_coming_reminders(staff_client, organisation):
    page = staff_client.get("/reminders/").content.decode()

    assert "Thursday 3 December" in page
    assert "“Due soon” for INV-0142" in page


def test_an_owner_changes_the_settings(owner_client, tenant_a):
    response = owner_client.post("/reminders/", SETTINGS)

    assert response.status_code == 302
    assert ReminderSettings.objects.get(tenant=tenant_a).reply_pause_days == 5


def test_staff_cannot_change_the_settings(staff_client, tenant_a):
    response = staff_client.post("/reminders/", SETTINGS)

    assert response.status_code == 403


def test_staff_pause_an_invoice_and_remove_the_pause(staff_client, organisation, tenant_a):
    staff_client.post("/reminders/pauses/", {"invoice_number": "inv-0142", "resume_on": ""})
    pause = ReminderPause.objects.get(tenant=tenant_a)
    assert (pause.label, pause.resume_on) == ("INV-0142", None)

    staff_client.post(f"/reminders/pauses/{pause.pk}/delete/")
    assert not ReminderPause.objects.exists()
