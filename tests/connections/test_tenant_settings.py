import pytest

from connections.models import Tenant

VALID = {
    "name": "Alpha Plumbing & Gas",
    "timezone": "Pacific/Auckland",
    "default_country": "NZ",
    "quiet_hours_start": "20:30",
    "quiet_hours_end": "07:45",
}


def _post(client, **changes):
    return client.post("/settings/", {**VALID, **changes}, follow=True)


def test_an_owner_saves_the_settings(owner_client, tenant_a):
    response = _post(owner_client)
    assert "Settings saved." in response.text
    tenant_a.refresh_from_db()
    assert tenant_a.name == "Alpha Plumbing & Gas"
    assert tenant_a.timezone == "Pacific/Auckland"
    assert tenant_a.quiet_hours_start.strftime("%H:%M") == "20:30"
    assert tenant_a.quiet_hours_end.strftime("%H:%M") == "07:45"
    assert tenant_a.settings_reviewed_at is not None


def test_the_form_offers_time_zones_and_countries_by_name(owner_client):
    page = owner_client.get("/settings/").text
    assert '<option value="Pacific/Auckland">Pacific/Auckland</option>' in page
    assert '<option value="America/New_York">America/New York</option>' in page
    assert '<option value="NZ" selected>New Zealand (+64)</option>' in page
    assert 'value="US/Pacific"' not in page  # legacy aliases are left out


def test_a_legacy_time_zone_already_set_stays_selectable(owner_client, tenant_a):
    Tenant.objects.filter(pk=tenant_a.pk).update(timezone="NZ")
    assert '<option value="NZ" selected>NZ</option>' in owner_client.get("/settings/").text


def test_equal_quiet_hours_are_refused_in_plain_words(owner_client, tenant_a):
    response = _post(owner_client, quiet_hours_start="21:00", quiet_hours_end="21:00")
    assert "Quiet hours end at the same time they start, so there would be none." in response.text
    assert "Some settings need fixing" in response.text
    tenant_a.refresh_from_db()
    assert tenant_a.settings_reviewed_at is None


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("timezone", "Mars/Olympus_Mons", "Pick your time zone from the list"),
        ("default_country", "XX", "Pick a country from the list."),
        ("quiet_hours_start", "9pm", "Enter a time like 21:00 (24-hour clock)."),
        ("quiet_hours_end", "", "Enter the time quiet hours end, for example 08:00."),
    ],
)
def test_a_bad_value_is_explained(owner_client, field, value, message):
    response = _post(owner_client, **{field: value})
    assert message in response.text
    assert 'aria-invalid="true"' in response.text


def test_a_blank_name_is_refused_and_the_header_keeps_the_old_name(owner_client, tenant_a):
    response = _post(owner_client, name="")
    assert "Give your team a name" in response.text
    assert '<span class="tenant-name">Alpha Plumbing</span>' in response.text
    tenant_a.refresh_from_db()
    assert tenant_a.name == "Alpha Plumbing"


def test_staff_cannot_open_the_settings(staff_client, tenant_a):
    response = staff_client.get("/settings/")
    assert response.status_code == 403
    assert "Only an owner of this tenant can do this." in response.text
    assert staff_client.post("/settings/", VALID).status_code == 403
    tenant_a.refresh_from_db()
    assert tenant_a.name == "Alpha Plumbing"
