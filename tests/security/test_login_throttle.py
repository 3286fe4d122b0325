"""Login brute-force throttling: per username and per address, on every login path."""

from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from tests.conftest import PASSWORD

LOGIN = "/accounts/login/"


def _try(client, username, password="wrong-password-123", **extra):
    return client.post(LOGIN, {"username": username, "password": password}, **extra)


@pytest.fixture
def locked_out(client, owner_a, settings):
    settings.LOGIN_FAILURES_PER_USERNAME = 5
    for _ in range(4):
        assert _try(client, owner_a.username).status_code == 200
    assert _try(client, owner_a.username).status_code == 429  # the fifth failure locks
    return owner_a


def test_five_wrong_passwords_lock_the_username_with_a_clear_message(client, locked_out):
    response = _try(client, locked_out.username)
    assert response.status_code == 429
    assert "Too many attempts; try again in 15 minutes." in response.content.decode()
    assert 'name="csrfmiddlewaretoken"' in response.content.decode()


def test_even_the_right_password_is_refused_while_locked(client, locked_out):
    response = _try(client, locked_out.username, PASSWORD)
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_the_lockout_is_per_username_whatever_its_case(client, locked_out):
    assert _try(client, locked_out.username.upper(), PASSWORD).status_code == 429


def test_the_lockout_ends_after_the_window(client, locked_out):
    with time_machine.travel(timezone.now() + timedelta(minutes=10)):
        assert "try again in 5 minutes" in _try(client, locked_out.username).content.decode()
    with time_machine.travel(timezone.now() + timedelta(minutes=16)):
        response = _try(client, locked_out.username, PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == "/invoices/"  # where login lands


def test_a_successful_login_clears_the_usernames_count(client, owner_a):
    for _ in range(4):
        _try(client, owner_a.username)
    assert _try(client, owner_a.username, PASSWORD).status_code == 302
    client.logout()
    for _ in range(4):
        assert _try(client, owner_a.username).status_code == 200


def test_other_users_log_in_while_one_username_is_locked(client, locked_out, staff_a):
    assert _try(Client(), staff_a.username, PASSWORD).status_code == 302


def test_one_address_guessing_many_usernames_is_locked_out(client, owner_a, settings):
    settings.LOGIN_FAILURES_PER_IP = 10
    for number in range(10):
        _try(client, f"guess{number}@example.test", REMOTE_ADDR="203.0.113.9")
    assert _try(client, owner_a.username, PASSWORD, REMOTE_ADDR="203.0.113.9").status_code == 429
    assert _try(client, owner_a.username, PASSWORD, REMOTE_ADDR="198.51.100.4").status_code == 302


def test_behind_a_proxy_the_configured_header_names_the_address(client, owner_a, settings):
    settings.LOGIN_FAILURES_PER_IP = 3
    settings.LOGIN_IP_HEADER = "HTTP_X_REAL_IP"
    for number in range(3):
        _try(client, f"guess{number}@example.test", HTTP_X_REAL_IP="203.0.113.9")
    response = _try(client, owner_a.username, PASSWORD, HTTP_X_REAL_IP="198.51.100.4")
    assert response.status_code == 302


def test_the_admin_login_counts_and_honours_the_same_lockout(client, locked_out):
    locked_out.is_staff = locked_out.is_superuser = True
    locked_out.save()
    response = client.post(
        "/admin/login/?next=/admin/", {"username": locked_out.username, "password": PASSWORD}
    )
    assert response.status_code == 200  # the admin's form, refusing: no session
    assert "_auth_user_id" not in client.session


def test_admin_failures_lock_the_login_page_too(client, owner_a):
    for _ in range(5):
        client.post("/admin/login/", {"username": owner_a.username, "password": "nope-nope-1"})
    assert _try(client, owner_a.username, PASSWORD).status_code == 429
