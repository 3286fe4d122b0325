"""Dunwell settings: 12-factor, every value from the environment, a laptop default for each.

See README.md "Configuration" for the list. With DEBUG=0 nothing is read from .env and the
secrets must come from the environment (or NAME_FILE), so a development key can never reach
production.
"""

import sys
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

from config.env import (
    DEV_SECRET_PREFIX,
    ensure_dev_dotenv,
    envbool,
    envint,
    envprices,
    envsecret,
    envstr,
    load_dotenv,
)

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = envbool("DEBUG", "1")
if DEBUG:
    ensure_dev_dotenv(BASE_DIR / ".env")
    load_dotenv(BASE_DIR / ".env")

SECRET_KEY = envsecret("SECRET_KEY")
FIELD_ENCRYPTION_KEYS = [
    k.strip() for k in envsecret("FIELD_ENCRYPTION_KEYS").split(",") if k.strip()
]
if not DEBUG:
    if not SECRET_KEY or SECRET_KEY.startswith(DEV_SECRET_PREFIX):
        raise ImproperlyConfigured(
            "SECRET_KEY is missing or is a development key. Set a long random SECRET_KEY "
            "(or SECRET_KEY_FILE) when DEBUG=0."
        )
    if not FIELD_ENCRYPTION_KEYS:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEYS is missing. Generate a key with: python -c "
            "'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'"
        )

PUBLIC_BASE_URL = envstr("PUBLIC_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
ALLOWED_HOSTS = [h for h in envstr("ALLOWED_HOSTS", "").split(",") if h]
if not ALLOWED_HOSTS:
    from urllib.parse import urlsplit

    ALLOWED_HOSTS = [urlsplit(PUBLIC_BASE_URL).hostname or "localhost"]
    if DEBUG:
        ALLOWED_HOSTS += ["localhost", "127.0.0.1", "[::1]", "testserver"]
CSRF_TRUSTED_ORIGINS = [PUBLIC_BASE_URL]

# pytest mounts the sandbox too: its tests and the end-to-end tests talk to it. Only an
# explicit DUNWELL_SANDBOX=1 outside tests points the Xero/Twilio URL defaults at it (see below).
TESTING = "pytest" in sys.modules
DUNWELL_SANDBOX = envbool("DUNWELL_SANDBOX", "1" if TESTING else "0")
DUNWELL_SANDBOX_FORCE = envbool("DUNWELL_SANDBOX_FORCE", "0")
if DUNWELL_SANDBOX and not DEBUG and not DUNWELL_SANDBOX_FORCE:
    raise ImproperlyConfigured(
        "DUNWELL_SANDBOX=1 with DEBUG=0: the sandbox fakes Xero and Twilio and must not be served "
        "in production. Unset DUNWELL_SANDBOX, or set DUNWELL_SANDBOX_FORCE=1 for a public demo."
    )

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_q",
    "rest_framework",
    "drf_spectacular",
    "connections",
    "api_tokens",
    "snapshots",
    "messaging",
    "billing_events",
    "alerts",
    "dashboard",
    "workspace",
    "config",
]
if DUNWELL_SANDBOX:
    INSTALLED_APPS += ["sandbox"]

MIDDLEWARE = [
    "config.middleware.DatabaseUnavailableMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "connections.middleware.TenantTimezoneMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.csp",
                "connections.tenancy.current_tenant",
                "connections.context_processors.xero_reconnect_banner",
                "connections.context_processors.tenant_organisations",
                "messaging.context_processors.inbox_waiting",
            ],
        },
    },
]

# SQLite by default. IMMEDIATE transactions make atomic() take the write lock at BEGIN, which is
# what stands in for select_for_update() on SQLite (docs/architecture.md, "Background work").
_SQLITE_OPTIONS = {
    "transaction_mode": "IMMEDIATE",
    "timeout": 20,
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
}
# Persistent connections are checked before reuse: after a database restart a connection kept
# from before is dead, and the first request to reuse it failed although the database was back
# (tests/reliability/test_database_restart.py).
DATABASES = {
    "default": dj_database_url.parse(
        envstr("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=60,
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = _SQLITE_OPTIONS
    DATABASES["default"]["CONN_MAX_AGE"] = 0
# runserver serves each browser connection in a new thread and closes that thread's database
# connection only when the browser closes the socket, so persistent connections piled up, one per
# keep-alive socket, and were never reused (threads are not). There each request closes its own.
# gunicorn's workers reuse their thread, so their persistent connections stay bounded.
if sys.argv[1:2] == ["runserver"]:
    DATABASES["default"]["CONN_MAX_AGE"] = 0
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# django-q2 carries kicks, never state (docs/architecture.md "Background work"): the rows hold
# attempts and next_attempt_at, and a once-a-minute schedule re-enqueues what a lost task left
# behind.
REDIS_URL = envstr("REDIS_URL")
Q_CLUSTER = {
    "name": "dunwell",
    "workers": envint("Q_WORKERS", "2"),
    "timeout": 60,
    "retry": 90,
    "max_attempts": 1,
    "ack_failures": True,
    "catch_up": False,
    # Successes are kept without django-q2's pruning, which loaded all of them for every task;
    # config/task_results.py keeps the newest 1,000.
    "save_limit": 0,
    "label": "Tasks",
}
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"
    # An enqueue wakes the idle pushers of this host at once (config/wakeful_broker.py); the poll
    # is only the fallback, for a wake that cannot be delivered.
    Q_CLUSTER["broker_class"] = "config.wakeful_broker.WakefulORM"
    Q_CLUSTER["poll"] = 1

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
# The Invoices page; it sends a tenant without a Xero organisation on to set-up (home).
LOGIN_REDIRECT_URL = "workspace:invoice-list"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
}
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", "1")
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", "31536000")
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

# Healthz turns 503 when a stored Xero event has waited longer than this.
HEALTHZ_MAX_EVENT_AGE_SECONDS = envint("HEALTHZ_MAX_EVENT_AGE_SECONDS", "900")

# --- Xero (FACTS.md "Xero: OAuth 2.0") -----------------------------------------------------------
XERO_CLIENT_ID = envstr("XERO_CLIENT_ID")
XERO_CLIENT_SECRET = envsecret("XERO_CLIENT_SECRET")
XERO_WEBHOOK_KEY = envsecret("XERO_WEBHOOK_KEY")
XERO_LOGIN_URL = envstr("XERO_LOGIN_URL", "https://login.xero.com").rstrip("/")
XERO_IDENTITY_URL = envstr("XERO_IDENTITY_URL", "https://identity.xero.com").rstrip("/")
XERO_API_URL = envstr("XERO_API_URL", "https://api.xero.com").rstrip("/")
# A Xero delivery is a few KB of event metadata; anything far larger is refused unread (413).
XERO_WEBHOOK_MAX_BYTES = envint("XERO_WEBHOOK_MAX_BYTES", "262144")
XERO_SCOPES = envstr(
    "XERO_SCOPES",
    "offline_access accounting.invoices.read accounting.payments.read "
    "accounting.contacts.read accounting.settings.read",
)

# --- Xero call budget and grant keep-alive (FACTS.md "Xero: accounting API") --------------------
XERO_MINUTE_LIMIT = envint("XERO_MINUTE_LIMIT", "60")
XERO_DAY_LIMIT = envint("XERO_DAY_LIMIT", "5000")  # the free Xero tier reports 1,000/day
XERO_CONCURRENT_LIMIT = envint("XERO_CONCURRENT_LIMIT", "5")
# Longest wait for budget before a retryable XeroError (django-q2 tasks time out at 60 s).
XERO_BUDGET_MAX_WAIT_SECONDS = envint("XERO_BUDGET_MAX_WAIT_SECONDS", "45")
# Unused refresh tokens expire after 60 days: refresh any grant quiet for this long.
XERO_KEEPALIVE_DAYS = envint("XERO_KEEPALIVE_DAYS", "20")

# --- Twilio and SendGrid (FACTS.md "Twilio") ---------------------------------------------------
TWILIO_API_URL = envstr("TWILIO_API_URL", "https://api.twilio.com").rstrip("/")
SENDGRID_API_URL = envstr("SENDGRID_API_URL", "https://api.sendgrid.com").rstrip("/")
# A Twilio callback is a few hundred bytes of form fields; far larger is refused unread (413).
TWILIO_WEBHOOK_MAX_BYTES = envint("TWILIO_WEBHOOK_MAX_BYTES", "65536")

# --- Login brute-force throttle (connections/login_throttle.py) --------------------------------
AUTHENTICATION_BACKENDS = [
    "connections.login_throttle.LoginThrottleBackend",  # refuses a locked-out username / address
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_FAILURES_PER_USERNAME = envint("LOGIN_FAILURES_PER_USERNAME", "5")
LOGIN_FAILURES_PER_IP = envint("LOGIN_FAILURES_PER_IP", "50")
LOGIN_LOCKOUT_MINUTES = envint("LOGIN_LOCKOUT_MINUTES", "15")
# Behind a proxy REMOTE_ADDR is the proxy's: name the header it sets, e.g. HTTP_X_REAL_IP.
LOGIN_IP_HEADER = envstr("LOGIN_IP_HEADER", "REMOTE_ADDR")
# --- Template editor's cost estimate: what one SMS segment costs, by the recipient's country ---
# Twilio bills per segment at a price per destination country (its SMS pricing page, or the
# Pricing API per account). SMS_PRICES lists the countries the tenants text; any other country
# is estimated at SMS_PRICE_PER_SEGMENT, and the editor says so. All in SMS_PRICE_CURRENCY.
SMS_PRICES = envprices("SMS_PRICES", "NZ:0.1100,AU:0.0515,US:0.0079")
SMS_PRICE_PER_SEGMENT = envstr("SMS_PRICE_PER_SEGMENT", "0.0079")
SMS_PRICE_CURRENCY = envstr("SMS_PRICE_CURRENCY", "USD")

# --- Sandbox: with DUNWELL_SANDBOX=1 the unset *_URL and Xero app settings point at the
# stand-ins this server mounts at /sandbox/. Tests keep the real hosts (they mock them).
if DUNWELL_SANDBOX and not TESTING:
    _SANDBOX = f"{PUBLIC_BASE_URL}/sandbox"
    XERO_LOGIN_URL = envstr("XERO_LOGIN_URL", f"{_SANDBOX}/xero/login").rstrip("/")
    XERO_IDENTITY_URL = envstr("XERO_IDENTITY_URL", f"{_SANDBOX}/xero/identity").rstrip("/")
    XERO_API_URL = envstr("XERO_API_URL", f"{_SANDBOX}/xero/api").rstrip("/")
    TWILIO_API_URL = envstr("TWILIO_API_URL", f"{_SANDBOX}/twilio").rstrip("/")
    SENDGRID_API_URL = envstr("SENDGRID_API_URL", f"{_SANDBOX}/sendgrid").rstrip("/")
    XERO_CLIENT_ID = XERO_CLIENT_ID or "SANDBOX0CLIENT0ID0000000000000000"
    XERO_CLIENT_SECRET = XERO_CLIENT_SECRET or "sandbox-client-secret-not-for-production"
    XERO_WEBHOOK_KEY = XERO_WEBHOOK_KEY or "sandbox-webhook-key-not-for-production"
# Status callbacks and webhooks leave from a background thread (False: tests deliver them by hand).
SANDBOX_DELIVER_IN_BACKGROUND = envbool("SANDBOX_DELIVER_IN_BACKGROUND", "0" if TESTING else "1")
# Seconds between the sandbox Twilio's status steps (queued → sent → delivered).
SANDBOX_TWILIO_STEP_SECONDS = float(envstr("SANDBOX_TWILIO_STEP_SECONDS", "1"))

# --- Email for team invitations (connections/members.py), through Django 6.1's MAILERS ---------
# MAILERS is defined only when EMAIL_HOST (or EMAIL_BACKEND, e.g. the console backend in
# development) is set; without it nothing is emailed and owners copy the invitation link
# themselves. (A dummy default mailer instead would fail `check --deploy` with mail.E001.)
email_host = envstr("EMAIL_HOST")  # lower case: Django refuses an EMAIL_HOST setting with MAILERS
if email_host or envstr("EMAIL_BACKEND"):
    MAILERS = {
        "default": {
            "BACKEND": envstr("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend"),
            "OPTIONS": {
                "host": email_host or "localhost",
                "port": envint("EMAIL_PORT", "587"),
                "username": envstr("EMAIL_HOST_USER"),
                "password": envsecret("EMAIL_HOST_PASSWORD"),
                "use_tls": envbool("EMAIL_USE_TLS", "1"),
                "timeout": envint("EMAIL_TIMEOUT", "10"),
            }
            if email_host
            else {},
        }
    }
DEFAULT_FROM_EMAIL = envstr("DEFAULT_FROM_EMAIL", "Dunwell <no-reply@localhost>")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "kv": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "kv"}},
    "root": {"handlers": ["console"], "level": envstr("LOG_LEVEL", "INFO")},
    "loggers": {
        "django_q": {"level": "WARNING"},
        # The Twilio SDK logs every request's URL and query at INFO: a reconcile's
        # ?To=+6421… would put a full phone number in the log (logs never carry one).
        "twilio.http_client": {"level": "WARNING"},
        # urllib3 logs every request line at DEBUG, query string and all: the same ?To=+6421…
        # would reach the log under LOG_LEVEL=DEBUG.
        "urllib3": {"level": "INFO"},
    },
}

# --- REST API (api_tokens/api.py) ------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "api_tokens.access.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["api_tokens.access.IsTenantMember"],
    "DEFAULT_THROTTLE_CLASSES": ["api_tokens.access.TokenRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"api": envstr("API_THROTTLE_RATE", "300/min")},
    # JSON only: the browsable API needs inline scripts that the CSP refuses.
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "EXCEPTION_HANDLER": "api_tokens.api.api_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Dunwell API",
    "DESCRIPTION": "The send log, message templates, reminders and connection status of one "
    "Dunwell tenant: the tenant of the API token used.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "ENUM_NAME_OVERRIDES": {
        "MessageChannelEnum": "messaging.models.Channel",
        "TemplateChannelEnum": "messaging.api.templates.TEMPLATE_CHANNELS",
        "MessageStatusEnum": "messaging.models.Message.Status",
        "XeroConnectionStatusEnum": "connections.models.XeroConnection.Status",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "api_tokens.api.error_responses_hook",
    ],
}
# Failed-login counts (default) and API throttle counts are shared by every web process through
# Redis when there is one; without it each process counts on its own.
CACHES = (
    {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "dunwell",
        },
        "api_throttle": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "dunwell-api",
        },
    }
    if REDIS_URL
    else {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "api_throttle": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "api",
        },
    }
)
