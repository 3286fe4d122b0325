"""seed_demo, which every `make run` runs: it creates the demo login once and then leaves it be."""

from io import StringIO

from django.contrib.auth import get_user_model
from django.core.management import call_command

from dashboard.management.commands.seed_demo import DEMO_EMAIL, DEMO_PASSWORD


def _seed_demo() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def test_seed_demo_creates_the_demo_login_it_prints(client, db):
    out = _seed_demo()

    assert f"password: {DEMO_PASSWORD}" in out
    assert client.login(username=DEMO_EMAIL, password=DEMO_PASSWORD)


def test_running_seed_demo_again_keeps_the_demo_user_signed_in(client, db):
    _seed_demo()
    client.login(username=DEMO_EMAIL, password=DEMO_PASSWORD)
    assert client.get("/").status_code == 200

    _seed_demo()

    assert client.get("/").status_code == 200  # not sent back to the login page


def test_running_seed_demo_again_keeps_a_password_the_demo_user_chose(db):
    _seed_demo()
    user = get_user_model().objects.get(username=DEMO_EMAIL)
    user.set_password("a-password-of-my-own")
    user.save()

    _seed_demo()

    user.refresh_from_db()
    assert user.check_password("a-password-of-my-own")
