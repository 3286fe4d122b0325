import re
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from connections.models import Membership, Tenant


def test_it_creates_tenant_and_owner_and_prints_a_one_time_link(db, client):
    out = StringIO()
    call_command("createtenant", "Harbour Bakery Ltd", owner_email="Sam@Harbour.test", stdout=out)
    tenant = Tenant.objects.get(name="Harbour Bakery Ltd")
    assert tenant.slug == "harbour-bakery-ltd"
    membership = Membership.objects.get(tenant=tenant)
    assert membership.role == "owner" and membership.user.email == "sam@harbour.test"

    link = re.search(r"https?://\S+/accounts/reset/\S+", out.getvalue()).group(0)
    path = link.split("://", 1)[1].split("/", 1)[1]
    response = client.get("/" + path, follow=True)
    assert b"new password" in response.content.lower()


def test_password_from_stdin_lets_the_owner_log_in(db, client, monkeypatch):
    monkeypatch.setattr("sys.stdin", StringIO("a-Long-and-good-passphrase\n"))
    call_command(
        "createtenant",
        "Kauri Joinery",
        owner_email="kim@kauri.test",
        password_stdin=True,
        stdout=StringIO(),
    )
    assert client.login(username="kim@kauri.test", password="a-Long-and-good-passphrase")
    response = client.get("/")
    assert b"Kauri Joinery" in response.content


def test_a_weak_password_is_refused_and_nothing_is_created(db, monkeypatch):
    monkeypatch.setattr("sys.stdin", StringIO("123\n"))
    with pytest.raises(CommandError, match="Password rejected"):
        call_command("createtenant", "Weak Ltd", owner_email="w@weak.test", password_stdin=True)
    assert not Tenant.objects.filter(name="Weak Ltd").exists()
    assert not get_user_model().objects.filter(username="w@weak.test").exists()


def test_an_existing_user_becomes_owner_of_a_second_tenant(db, tenant_a, owner_a):
    call_command("createtenant", "Alpha Two", owner_email=owner_a.email, stdout=StringIO())
    assert Membership.objects.filter(user=owner_a, role="owner").count() == 2
