from django.utils.timezone import now

from connections.members import invitation_create
from connections.models import Tenant
from connections.selectors_setup import tenant_setup_steps


def test_a_new_tenant_has_every_step_left_to_do(owner_client, tenant_a):
    assert [s.done for s in tenant_setup_steps(tenant=tenant_a)] == [False, False]
    page = owner_client.get("/").text
    assert "What’s left to do" in page
    assert "0 of 2 done." in page
    assert '<a href="/members/">Invite a colleague</a>' in page
    assert '<a href="/settings/">Review settings</a>' in page


def test_inviting_someone_ticks_off_the_members_step(owner_client, owner_a, tenant_a):
    invitation_create(tenant=tenant_a, email="sam@alpha.test", invited_by=owner_a)
    steps = {s.key: s.done for s in tenant_setup_steps(tenant=tenant_a)}
    assert steps == {"members": True, "settings": False}
    assert "1 of 2 done." in owner_client.get("/").text


def test_staff_see_owner_steps_without_a_link(staff_client):
    page = staff_client.get("/").text
    assert "Ask an owner of your team to do this." in page
    assert '<a href="/settings/">' not in page


def test_when_every_step_is_done_home_says_all_set(owner_client, staff_a, tenant_a):
    Tenant.objects.filter(pk=tenant_a.pk).update(settings_reviewed_at=now())
    page = owner_client.get("/").text
    assert "All set" in page
    assert "What’s left to do" not in page
