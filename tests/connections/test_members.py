import hashlib
import re
from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core import mail
from django.utils.timezone import now

from connections.members import invitation_create
from connections.models import Invitation, Membership
from tests.conftest import PASSWORD

NEW_PASSWORD = "a-long-and-unusual-passphrase-42"
LOCMEM = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}


def _invite(client, email="sam@alpha.test"):
    response = client.post("/members/invite/", {"email": email}, follow=True)
    assert response.status_code == 200
    match = re.search(r'id="invitation-link" type="text" readonly value="([^"]+)"', response.text)
    return response, match.group(1) if match else None


def _path(link):
    return link.removeprefix("http://127.0.0.1:8000")


@pytest.fixture
def sam_link(owner_client):
    _, link = _invite(owner_client)
    owner_client.logout()
    return _path(link)


def test_an_owner_invites_a_colleague_and_sees_the_link_once(owner_client, tenant_a):
    response, link = _invite(owner_client)
    assert link.startswith("http://127.0.0.1:8000/invitations/")
    assert "Send this link to sam@alpha.test yourself" in response.text
    assert "sam@alpha.test" in response.text.split("Waiting invitations")[1]
    again = owner_client.get("/members/")
    assert link not in again.text


def test_only_a_hash_of_the_token_is_stored(owner_client, tenant_a):
    _, link = _invite(owner_client)
    token = link.rstrip("/").rsplit("/", 1)[1]
    invitation = Invitation.objects.get(tenant=tenant_a)
    assert invitation.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in str(Invitation.objects.values().get())


def test_the_invitation_is_emailed_when_a_mailer_is_configured(owner_client, settings):
    settings.MAILERS = LOCMEM
    response, link = _invite(owner_client)
    assert "We emailed this link to sam@alpha.test" in response.text
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["sam@alpha.test"]
    assert mail.outbox[0].subject == "Join Alpha Plumbing on Dunwell"
    assert link in mail.outbox[0].body


def test_without_a_mailer_nothing_is_emailed(owner_client):
    response, _ = _invite(owner_client)
    assert "Dunwell has no email server set up" in response.text
    assert mail.outbox == []


def test_a_mail_server_that_is_down_still_leaves_the_link_to_copy(owner_client, settings):
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": 9, "timeout": 2},
        }
    }
    response, link = _invite(owner_client)
    assert link
    assert "Send this link to sam@alpha.test yourself" in response.text


def test_inviting_again_replaces_the_old_link(owner_client, client):
    _, first = _invite(owner_client)
    _, second = _invite(owner_client)
    assert first != second
    assert Invitation.objects.filter(accepted_at=None, revoked_at=None).count() == 1
    assert owner_client.get(_path(first)).status_code == 410


def test_inviting_an_existing_member_says_so(owner_client, staff_a):
    response, link = _invite(owner_client, email="STAFF@alpha.test")
    assert link is None
    assert "staff@alpha.test is already a member of Alpha Plumbing." in response.text


def test_a_mistyped_email_gets_a_plain_words_error(owner_client):
    response, link = _invite(owner_client, email="sam at alpha")
    assert link is None
    assert "That does not look like an email address." in response.text
    assert 'aria-invalid="true"' in response.text


def test_staff_see_the_members_but_cannot_invite(staff_client, owner_a):
    response = staff_client.get("/members/")
    assert response.status_code == 200
    assert owner_a.email in response.text
    assert "Invite a colleague" not in response.text
    assert "Remove" not in response.text
    assert staff_client.post("/members/invite/", {"email": "x@alpha.test"}).status_code == 403
    assert not Invitation.objects.exists()


def test_a_new_person_chooses_a_password_and_joins_as_staff(client, tenant_a, sam_link):
    page = client.get(sam_link)
    assert "Choose a password" in page.text
    response = client.post(
        sam_link, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD}, follow=True
    )
    assert "<h1>Alpha Plumbing</h1>" in response.text
    assert "Welcome to Alpha Plumbing." in response.text
    sam = get_user_model().objects.get(email="sam@alpha.test")
    assert sam.check_password(NEW_PASSWORD)
    assert Membership.objects.get(user=sam, tenant=tenant_a).role == "staff"


def test_two_different_passwords_are_refused_in_plain_words(client, sam_link):
    response = client.post(sam_link, {"password1": NEW_PASSWORD, "password2": "other-one-123"})
    assert "The two passwords are different." in response.text
    assert not get_user_model().objects.filter(email="sam@alpha.test").exists()


def test_a_logged_in_person_accepts_and_joins_as_staff(client, tenant_a, tenant_b, sam_link):
    from tests.conftest import _user

    sam = _user("sam@alpha.test")
    client.force_login(sam)
    assert "Join Alpha Plumbing" in client.get(sam_link).text
    response = client.post(sam_link, follow=True)
    assert "<h1>Alpha Plumbing</h1>" in response.text
    assert Membership.objects.get(user=sam).tenant == tenant_a


def test_an_existing_account_must_log_in_rather_than_set_a_password(client, staff_a, tenant_b):
    bravo_owner = tenant_b.memberships.get().user
    link = invitation_create(tenant=tenant_b, email=staff_a.email, invited_by=bravo_owner).link
    path = _path(link)
    page = client.get(path)
    assert "already has a Dunwell login" in page.text
    assert f'href="/accounts/login/?next={path}"' in page.text
    client.post(path, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    staff_a.refresh_from_db()
    assert staff_a.check_password(PASSWORD)
    assert not Membership.objects.filter(user=staff_a, tenant=tenant_b).exists()


def test_a_link_works_only_once(client, tenant_a, sam_link):
    client.post(sam_link, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    client.logout()
    response = client.get(sam_link)
    assert response.status_code == 410
    assert "It has already been used." in response.text
    from tests.conftest import _user

    client.force_login(_user("mallory@elsewhere.test"))
    assert client.post(sam_link).status_code == 410
    assert tenant_a.memberships.count() == 2


def test_an_expired_link_no_longer_works(client, tenant_a, sam_link):
    with time_machine.travel(now() + timedelta(days=7, minutes=1)):
        response = client.get(sam_link)
        assert response.status_code == 410
        assert "It expired on" in response.text
        response = client.post(sam_link, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert response.status_code == 410
    assert tenant_a.memberships.count() == 1


def test_a_withdrawn_link_no_longer_works(owner_client, client, tenant_a):
    _, link = _invite(owner_client)
    invitation = Invitation.objects.get()
    response = owner_client.post(f"/members/invitations/{invitation.pk}/revoke/", follow=True)
    assert "The invitation for sam@alpha.test no longer works." in response.text
    assert "No invitations waiting." in response.text
    assert client.get(_path(link)).status_code == 410


def test_an_unknown_token_is_not_found(client, db):
    assert client.get("/invitations/not-a-real-token/").status_code == 404


def test_another_tenants_link_joins_that_tenant_only(client, staff_a, tenant_a, tenant_b):
    bravo_owner = tenant_b.memberships.get().user
    link = invitation_create(tenant=tenant_b, email=staff_a.email, invited_by=bravo_owner).link
    client.force_login(staff_a)
    response = client.post(_path(link), follow=True)
    assert "<h1>Bravo Bakery</h1>" in response.text
    roles = {m.tenant.name: m.role for m in Membership.objects.filter(user=staff_a)}
    assert roles == {"Alpha Plumbing": "staff", "Bravo Bakery": "staff"}


def test_accepting_never_lowers_an_owners_role(client, owner_a, tenant_a):
    link = invitation_create(tenant=tenant_a, email="x@alpha.test", invited_by=owner_a).link
    client.force_login(owner_a)
    client.post(_path(link))
    assert Membership.objects.get(user=owner_a, tenant=tenant_a).role == "owner"


def test_an_owner_cannot_withdraw_another_tenants_invitation(owner_client, tenant_b):
    bravo_owner = tenant_b.memberships.get().user
    new = invitation_create(tenant=tenant_b, email="x@bravo.test", invited_by=bravo_owner)
    response = owner_client.post(f"/members/invitations/{new.invitation.pk}/revoke/")
    assert response.status_code == 404
    new.invitation.refresh_from_db()
    assert new.invitation.is_open


def _htmx(client, path, data=None):
    return client.post(path, data or {}, headers={"HX-Request": "true"})


def test_an_owner_removes_a_member(owner_client, staff_a, tenant_a):
    membership = Membership.objects.get(user=staff_a)
    response = owner_client.post(f"/members/{membership.pk}/remove/", follow=True)
    assert "staff@alpha.test was removed from the team." in response.text
    assert not Membership.objects.filter(user=staff_a).exists()
    assert get_user_model().objects.filter(pk=staff_a.pk).exists()


def test_with_htmx_removing_answers_the_refreshed_table(owner_client, staff_a):
    membership = Membership.objects.get(user=staff_a)
    response = _htmx(owner_client, f"/members/{membership.pk}/remove/")
    assert response.status_code == 200
    assert response.text.lstrip().startswith("<section")
    assert 'id="members"' in response.text
    assert "staff@alpha.test was removed" in response.text
    assert "<h1>" not in response.text


def test_the_last_owner_cannot_remove_themselves(owner_client, owner_a):
    membership = Membership.objects.get(user=owner_a)
    response = owner_client.post(f"/members/{membership.pk}/remove/", follow=True)
    assert "a team needs at least one owner" in response.text
    assert Membership.objects.filter(pk=membership.pk).exists()


def test_an_owner_may_leave_when_another_owner_remains(owner_client, owner_a, staff_a):
    Membership.objects.filter(user=staff_a).update(role="owner")
    membership = Membership.objects.get(user=owner_a)
    response = _htmx(owner_client, f"/members/{membership.pk}/remove/")
    assert response.status_code == 204
    assert response["HX-Redirect"] == "/"
    assert owner_client.get("/").status_code == 403  # no team left: the "not part of a team" page


def test_an_owner_changes_a_members_role(owner_client, staff_a):
    membership = Membership.objects.get(user=staff_a)
    response = _htmx(owner_client, f"/members/{membership.pk}/role/", {"role": "owner"})
    assert "staff@alpha.test is now owner." in response.text
    membership.refresh_from_db()
    assert membership.role == "owner"


def test_the_last_owner_cannot_become_staff(owner_client, owner_a):
    membership = Membership.objects.get(user=owner_a)
    response = _htmx(owner_client, f"/members/{membership.pk}/role/", {"role": "staff"})
    assert 'role="alert"' in response.text
    assert "Make someone else an owner first." in response.text
    membership.refresh_from_db()
    assert membership.role == "owner"


def test_an_owner_who_makes_themselves_staff_reloads_without_owner_controls(
    owner_client, owner_a, staff_a
):
    Membership.objects.filter(user=staff_a).update(role="owner")
    membership = Membership.objects.get(user=owner_a)
    response = _htmx(owner_client, f"/members/{membership.pk}/role/", {"role": "staff"})
    assert response["HX-Redirect"] == "/members/"
    assert "Invite a colleague" not in owner_client.get("/members/").text


def test_an_unknown_role_is_refused(owner_client, staff_a):
    membership = Membership.objects.get(user=staff_a)
    response = owner_client.post(f"/members/{membership.pk}/role/", {"role": "admin"}, follow=True)
    assert "Choose owner or staff." in response.text
    membership.refresh_from_db()
    assert membership.role == "staff"


def test_staff_cannot_remove_anyone(staff_client, owner_a):
    membership = Membership.objects.get(user=owner_a)
    assert staff_client.post(f"/members/{membership.pk}/remove/").status_code == 403
    assert Membership.objects.filter(pk=membership.pk).exists()


def test_two_people_holding_the_same_link_cannot_both_join(tenant_a, owner_a, outsider):
    from connections.members import TeamRuleError, invitation_accept
    from connections.selectors_members import invitation_for_token

    link = invitation_create(tenant=tenant_a, email="sam@alpha.test", invited_by=owner_a).link
    token = link.rstrip("/").rsplit("/", 1)[1]
    # Both requests loaded the invitation while it was still open.
    first, second = invitation_for_token(token=token), invitation_for_token(token=token)
    invitation_accept(invitation=first, user=outsider)
    with pytest.raises(TeamRuleError, match="already been used"):
        invitation_accept(invitation=second, user=owner_a)
    assert Invitation.objects.get().accepted_by == outsider
