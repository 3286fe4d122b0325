import os
import subprocess
import sys
from pathlib import Path

from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]


def _load_settings(env: dict) -> subprocess.CompletedProcess:
    """Import the settings module in a fresh interpreter with exactly this environment."""
    base = {"PATH": os.environ["PATH"], "DJANGO_SETTINGS_MODULE": "config.settings"}
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings;"
            "db = settings.DATABASES['default']; print(db['ENGINE'],"
            " db.get('OPTIONS', {}).get('transaction_mode')); print(settings.Q_CLUSTER.get('orm'),"
            " settings.Q_CLUSTER.get('redis'), settings.Q_CLUSTER.get('broker_class'));"
            "print(*(settings.CACHES[c]['BACKEND'].rsplit('.', 1)[1] for c in settings.CACHES))",
        ],
        cwd=ROOT,
        env=base | env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_development_defaults_are_sqlite_and_the_orm_broker():
    result = _load_settings({"DEBUG": "1"})
    assert result.returncode == 0, result.stderr
    engine, broker, caches = result.stdout.splitlines()
    # IMMEDIATE makes atomic() take SQLite's write lock at BEGIN: our select_for_update().
    assert engine == "django.db.backends.sqlite3 IMMEDIATE"
    # The ORM broker, woken by enqueues on this host (config/wakeful_broker.py).
    assert broker == "default None config.wakeful_broker.WakefulORM"
    assert caches == "LocMemCache LocMemCache"


def test_database_url_switches_to_postgresql_and_redis_url_to_redis():
    result = _load_settings(
        {
            "DEBUG": "1",
            "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/postgres",
            "REDIS_URL": "redis://127.0.0.1:6379/0",
        }
    )
    assert result.returncode == 0, result.stderr
    engine, broker, caches = result.stdout.splitlines()
    assert engine == "django.db.backends.postgresql None"
    assert broker == "None redis://127.0.0.1:6379/0 None"
    # Failed logins and API throttling are counted across every web process.
    assert caches == "RedisCache RedisCache"


def test_production_refuses_to_start_without_a_secret_key():
    result = _load_settings({"DEBUG": "0"})
    assert result.returncode != 0
    assert "SECRET_KEY is missing or is a development key" in result.stderr


def test_production_refuses_the_development_key():
    result = _load_settings(
        {"DEBUG": "0", "SECRET_KEY": "dev-insecure-abc", "FIELD_ENCRYPTION_KEYS": "x"}
    )
    assert result.returncode != 0
    assert "development key" in result.stderr


def test_production_refuses_to_start_without_encryption_keys():
    result = _load_settings({"DEBUG": "0", "SECRET_KEY": "a-real-looking-secret-" * 3})
    assert result.returncode != 0
    assert "FIELD_ENCRYPTION_KEYS is missing" in result.stderr


def test_development_keys_live_in_a_git_ignored_dotenv():
    assert (ROOT / ".env").exists()
    ignored = subprocess.run(["git", "check-ignore", ".env"], cwd=ROOT, capture_output=True)
    assert ignored.returncode == 0, ".env must be git-ignored"


def test_queue_settings_make_rows_the_source_of_truth():
    q = settings.Q_CLUSTER
    assert (q["timeout"], q["retry"], q["max_attempts"], q["ack_failures"], q["catch_up"]) == (
        60,
        90,
        1,
        True,
        False,
    )


def test_deploy_checks_are_clean_with_production_settings():
    from cryptography.fernet import Fernet

    env = {
        "PATH": os.environ["PATH"],
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "0",
        "SECRET_KEY": "prod-" + "k3y" * 20,
        "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "PUBLIC_BASE_URL": "https://dunwell.example.com",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_malformed_sms_prices_setting_stops_the_start_naming_it():
    result = _load_settings({"SMS_PRICES": "NZ:0.11,Australia:0.05"})
    assert result.returncode != 0
    assert "SMS_PRICES must be COUNTRY:PRICE pairs" in result.stderr
    assert "'Australia:0.05'" in result.stderr
