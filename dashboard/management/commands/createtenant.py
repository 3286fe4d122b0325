import sys

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from dashboard.services import tenant_open


def one_time_login_link(user) -> str:
    """Django's password-reset link: valid once, until the password changes or it expires."""
    path = reverse(
        "password_reset_confirm",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )
    return f"{settings.PUBLIC_BASE_URL}{path}"


class Command(BaseCommand):
    help = "Create a tenant and its owner. Prints a one-time link to set the owner's password."

    def add_arguments(self, parser):
        parser.add_argument("name", help='The tenant\'s display name, e.g. "Harbour Bakery Ltd"')
        parser.add_argument("--owner-email", required=True)
        parser.add_argument(
            "--password-stdin",
            action="store_true",
            help="Read the owner's password from standard input instead of printing a link.",
        )

    def handle(self, *args, name, owner_email, password_stdin, **options):
        password = sys.stdin.readline().rstrip("\n") if password_stdin else None
        if password_stdin:
            try:
                validate_password(password)
            except ValidationError as error:
                raise CommandError("Password rejected: " + " ".join(error.messages)) from None

        tenant, membership = tenant_open(name=name, owner_email=owner_email)
        user = membership.user
        self.stdout.write(
            f"Created tenant {tenant.name!r} (slug {tenant.slug}), owner {user.email}."
        )
        if password is not None:
            user.set_password(password)
            user.save(update_fields=["password"])
            self.stdout.write(
                f"Password set. Log in at {settings.PUBLIC_BASE_URL}{reverse('login')}"
            )
        else:
            self.stdout.write(f"One-time link to choose a password: {one_time_login_link(user)}")
