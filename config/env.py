"""Strict readers for environment variables, in the manner of healthchecks' settings.

A value that cannot be parsed stops the process with a message naming the variable, instead of
silently falling back to a default that would surprise an operator.
"""

import os
import secrets
from decimal import Decimal, InvalidOperation
from pathlib import Path

from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

DEV_SECRET_PREFIX = "dev-insecure-"

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def envbool(name: str, default: str) -> bool:
    value = os.getenv(name, default).strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be 0 or 1 (or true/false), not {value!r}")


def envint(name: str, default: str) -> int:
    value = os.getenv(name, default)
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}") from None


def envstr(name: str, default: str = "") -> str:
    return os.getenv(name, default)


def envprices(name: str, default: str) -> dict[str, Decimal]:
    """`NZ:0.1100,AU:0.0515` → {"NZ": Decimal("0.1100"), "AU": Decimal("0.0515")}."""
    value = os.getenv(name, default)
    prices = {}
    for entry in filter(None, (part.strip() for part in value.split(","))):
        country, _, price = entry.partition(":")
        try:
            amount = Decimal(price.strip())
        except InvalidOperation:
            amount = None
        if len(country.strip()) != 2 or amount is None or amount < 0:
            raise ImproperlyConfigured(
                f"{name} must be COUNTRY:PRICE pairs such as NZ:0.1100,AU:0.0515, not {entry!r}"
            )
        prices[country.strip().upper()] = amount
    return prices


def envsecret(name: str, default: str = "") -> str:
    """Read NAME, or the file named by NAME_FILE (Docker and Kubernetes secrets)."""
    path = os.getenv(f"{name}_FILE")
    if path:
        return Path(path).read_text().strip()
    return os.getenv(name, default)


def load_dotenv(path: Path) -> None:
    """Read KEY=VALUE lines into os.environ without overriding what the environment already says."""
    if not path.exists():
        return
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, value = line.split("=", 1)
        os.environ.setdefault(key.strip(), value.strip())


def ensure_dev_dotenv(path: Path) -> None:
    """Create a development .env with a fresh SECRET_KEY and Fernet key, once.

    The keys are marked as development keys so that a production start (DEBUG=0) refuses them.
    """
    if path.exists():
        return
    path.write_text(
        "# Generated on first run for development only. Never used when DEBUG=0.\n"
        f"SECRET_KEY={DEV_SECRET_PREFIX}{secrets.token_urlsafe(40)}\n"
        f"FIELD_ENCRYPTION_KEYS={Fernet.generate_key().decode()}\n"
    )
    path.chmod(0o600)
