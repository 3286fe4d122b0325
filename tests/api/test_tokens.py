"""API tokens: made and revoked on /api-tokens/, shown once, stored only as a SHA-256."""

import hashlib
import re

from api_tokens.models import ApiToken
from api_tokens.services import api_token_create
from connections.models import Membership
from tests.api.conftest import client_with_token


def _new_token(client, name="Dashboard") -> str:
    page = client.post("/api-tokens/", {"name": name}).content.decode()
    return re.search(r'value="(dw_[^"]+)"', page).group(1)


def test_a_new_token_is_shown_once_and_stored_only_as_its_hash(staff_client, tenant_a, staff_a):
    response = staff_client.post("/api-tokens/", {"name": "Dashboard"})
    assert response["Cache-Control"] == "no-store"
    raw = re.search(r'value="(dw_[^"]+)"', response.content.decode()).group(1)
    api_token = ApiToken.objects.get()
    assert (api_token.tenant, api_token.user, api_token.name) == (tenant_a, staff_a, "Dashboard")
    assert api_token.token_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert raw not in str(list(ApiToken.objects.values()))
    again = staff_client.get("/api-tokens/").content.decode()
    assert "Dashboard" in again and raw not in again and api_token.prefix in again


def test_a_token_works_for_its_tenant_until_it_is_revoked(staff_client, tenant_a):
    raw = _new_token(staff_client)
    api = client_with_token(raw)
    assert api.get("/api/v1/templates/").status_code == 200
    api_token = ApiToken.objects.get()
    staff_client.post(f"/api-tokens/{api_token.pk}/revoke/")
    response = api.get("/api/v1/templates/")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"


def test_staff_see_and_revoke_only_their_own_tokens(staff_client, tenant_a, owner_a):
    owners, _ = api_token_create(tenant=tenant_a, user=owner_a, name="Owner's sync")
    assert "Owner&#x27;s sync" not in staff_client.get("/api-tokens/").content.decode()
    assert staff_client.post(f"/api-tokens/{owners.pk}/revoke/").status_code == 404
    owners.refresh_from_db()
    assert owners.is_active


def test_an_owner_sees_and_revokes_every_token_of_the_tenant(owner_client, tenant_a, staff_a):
    staffs, _ = api_token_create(tenant=tenant_a, user=staff_a, name="Staff sync")
    page = owner_client.get("/api-tokens/").content.decode()
    assert "Staff sync" in page and "staff@alpha.test" in page
    owner_client.post(f"/api-tokens/{staffs.pk}/revoke/")
    staffs.refresh_from_db()
    assert not staffs.is_active


def test_a_token_stops_working_when_its_owner_leaves_the_tenant(api, staff_a, tenant_a):
    assert api.get("/api/v1/templates/").status_code == 200
    Membership.objects.filter(user=staff_a, tenant=tenant_a).delete()
    assert api.get("/api/v1/templates/").status_code == 401


def test_a_token_acts_for_its_own_tenant_whatever_the_session_chose(tenant_a, tenant_b, staff_a):
    Membership.objects.create(user=staff_a, tenant=tenant_b, role=Membership.Role.STAFF)
    _, raw_b = api_token_create(tenant=tenant_b, user=staff_a, name="Bravo")
    ids = {t["id"] for t in client_with_token(raw_b).get("/api/v1/templates/").json()}
    assert ids == set(tenant_b.message_templates.values_list("pk", flat=True))


def test_the_admin_lists_tokens_without_any_secret(admin_client, staff_token):
    api_token, raw = staff_token
    page = admin_client.get(f"/admin/api_tokens/apitoken/{api_token.pk}/change/").content.decode()
    assert api_token.prefix in page
    assert raw not in page and api_token.token_hash not in page


def test_the_page_says_when_a_token_was_last_used(api, staff_token, time_machine):
    api_token, _ = staff_token
    time_machine.move_to("2026-07-07 01:00:00Z", tick=False)
    api.get("/api/v1/templates/")
    time_machine.move_to("2026-07-07 01:00:30Z", tick=False)
    api.get("/api/v1/templates/")  # within the minute: not written again
    api_token.refresh_from_db()
    assert api_token.last_used_at.isoformat() == "2026-07-07T01:00:00+00:00"
    time_machine.move_to("2026-07-07 01:02:00Z", tick=False)
    api.get("/api/v1/templates/")
    api_token.refresh_from_db()
    assert api_token.last_used_at.isoformat() == "2026-07-07T01:02:00+00:00"


def test_a_token_made_with_the_earlier_alphabet_still_works(tenant_a, staff_a):
    raw = "dw_Il1O0-_" + "x" * 33  # token_urlsafe's alphabet, look-alikes and all
    ApiToken.objects.create(
        tenant=tenant_a, user=staff_a, name="Old script", prefix=raw[:10],
        token_hash=hashlib.sha256(raw.encode()).hexdigest(),
    )  # fmt: skip

    assert client_with_token(raw).get("/api/v1/templates/").status_code == 200
