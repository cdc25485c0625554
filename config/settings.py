"""Settings, all read from environment variables.

DJANGO_ENV selects the profile: "development" (the default: DEBUG on, SQLite under var/, mail
printed to the console) or "production" (DEBUG off, SECRET_KEY and ALLOWED_HOSTS required,
HTTPS-only cookies, HSTS). Every value can still be overridden one by one.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("VAR_DIR", BASE_DIR / "var"))


def env(name: str, default: str = "") -> str:
    # Set but empty (DATABASE_URL= in an env file or a compose template) means "not set", as in env_int.
    return os.environ.get(name) or default


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return default if value in (None, "") else int(value)


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env(name, default).split(",") if item.strip()]


DJANGO_ENV = env("DJANGO_ENV", "development")
if DJANGO_ENV not in {"development", "production"}:
    raise ImproperlyConfigured("DJANGO_ENV must be 'development' or 'production'")
PRODUCTION = DJANGO_ENV == "production"

DEBUG = env_bool("DJANGO_DEBUG", not PRODUCTION)
SECRET_KEY = env("SECRET_KEY")
if not SECRET_KEY:
    # In production whatever DJANGO_DEBUG says: a known key would let anyone forge sessions.
    if PRODUCTION:
        raise ImproperlyConfigured("SECRET_KEY must be set in production")
    # Only for local development and tests; production refuses to start without a key.
    # bandit B105: development only; production refuses to start without SECRET_KEY
    SECRET_KEY = "dev-only-insecure-key-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDEFGHIJ"  # noqa: S105  # nosec B105

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "" if PRODUCTION else "127.0.0.1,localhost,testserver,[::1]")
if PRODUCTION and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must be set in production (comma-separated host names)")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")


def _site_url() -> str:
    """Where people open the links in our mail (a suspended user's appeal link, a reporter's report
    page): mail has no request to take the host from. In production it defaults to https:// and the
    first ALLOWED_HOSTS name, when that is a plain name."""
    first_host = ALLOWED_HOSTS[0] if ALLOWED_HOSTS else ""
    plain_host = first_host and not first_host.startswith(".") and "*" not in first_host
    default = ("https://" + first_host if plain_host else "") if PRODUCTION else "http://127.0.0.1:8000"
    url = env("SITE_URL", default).rstrip("/")
    if not url:
        raise ImproperlyConfigured("SITE_URL must be set in production, e.g. https://reports.example.com")
    if not url.startswith("https://" if PRODUCTION else ("http://", "https://")):
        scheme = "https://" if PRODUCTION else "http:// or https://"
        raise ImproperlyConfigured(f"SITE_URL must start with {scheme}, e.g. https://reports.example.com")
    return url


SITE_URL = _site_url()

INSTALLED_APPS = [
    "config.admin.ReportDeskAdminConfig",  # django.contrib.admin with our site (config/admin.py)
    # Before django.contrib.auth: its createsuperuser (with the audit event) replaces Django's.
    "audit",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_filters",
    "crispy_forms",
    "crispy_bootstrap5",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    # Sign-in lockouts per (username, address): AxesStandaloneBackend, AxesMiddleware, AXES_* below.
    "axes",
    "reports",
    "moderation",
    "moderation.enforcement",
    "moderation.hashbank",
    "moderation.stories",
    "moderation.signals",
]
if not PRODUCTION:
    # The benchmark and drill commands (bench_data, bench_queue, bench_filing, reliability_outage)
    # and the filing benchmark's baseline table: everywhere but production, whose `manage.py help`
    # lists the ops commands only.
    INSTALLED_APPS.append("benchmarks")
# The baseline view itself is routed only on the benchmark server that bench_filing starts.
BENCHMARKS = env_bool("BENCHMARKS", False)
if BENCHMARKS and PRODUCTION:
    raise ImproperlyConfigured("BENCHMARKS=1 is for the benchmark server only, not production")

MIDDLEWARE = [
    # Outermost: the request id, the request's log line and its latency (config/requestlog.py).
    "config.requestlog.RequestLogMiddleware",
    # /healthz, /readyz, /metrics, answered before the host check and the HTTPS redirect (config/health.py).
    "config.health.OpsEndpointsMiddleware",
    # Then: a body over the cap is refused (413) before anything reads it (CSRF reads the POST).
    "config.middleware.RequestBodyLimitMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "config.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # After the session (it reads the language cookie and Accept-Language), before CommonMiddleware
    # (as Django's documentation places it). URLs carry no language prefix.
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # A signed-in person's language is the one stored on their account (config/i18n.py).
    "config.i18n.AccountLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "moderation.enforcement.signin.SanctionedSessionMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "config.middleware.DatabaseUnavailableMiddleware",
    # Last, as django-axes requires: turns a locked-out sign-in into our sign-in page's answer.
    "axes.middleware.AxesMiddleware",
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
                # LANGUAGES and LANGUAGE_CODE, for <html lang> and the language switcher.
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "config.context_processors.navigation",
                "moderation.enforcement.context_processors.account_standing",
            ],
            # {% load jinja2 %}: a Jinja2 partial or macro inside a Django template.
            # {% load dates %}: a day or a moment as the page's language writes it (config/dates.py).
            "libraries": {"jinja2": "config.jinja2", "dates": "config.date_filters"},
        },
    },
    # The hot listings (the queue's rows, the report page's side lists, the badges): config/jinja2.py.
    {
        "BACKEND": "django.template.backends.jinja2.Jinja2",
        "DIRS": [BASE_DIR / "templates" / "jinja2"],
        "APP_DIRS": False,
        "OPTIONS": {
            "environment": "config.jinja2.environment",
            "autoescape": True,
            # LANGUAGE_CODE, read once per render for the filters and gettext (config/jinja2.py).
            "context_processors": ["django.template.context_processors.i18n"],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
SQLITE_PATH = VAR_DIR / "db.sqlite3"
VAR_DIR.mkdir(parents=True, exist_ok=True)
DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL", f"sqlite:///{SQLITE_PATH}"),
        conn_max_age=env_int("DB_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
# Two PostgreSQL roles in production: the app runs as the role in DATABASE_URL, which may insert and
# read audit events but owns nothing; `manage.py migrate` (audit/management/commands/migrate.py) and
# `manage.py db_roles --apply` connect with this URL instead, as the role that owns the tables. Unset,
# they use DATABASE_URL (one role: SQLite, bin/demo, development).
MIGRATE_DATABASE_URL = env("MIGRATE_DATABASE_URL")
MIGRATE_DATABASE = dj_database_url.parse(MIGRATE_DATABASE_URL) if MIGRATE_DATABASE_URL else None
if MIGRATE_DATABASE and MIGRATE_DATABASE["ENGINE"] != DATABASES["default"]["ENGINE"]:
    raise ImproperlyConfigured("MIGRATE_DATABASE_URL must name the same kind of database as DATABASE_URL")
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE transactions take the write lock up front, so two writers queue instead of
    # failing with "database is locked" when one upgrades a read lock; WAL lets readers go on.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # JIT compilation pays off for long analytical queries, not for pages: it added 30-60 ms to a
    # queue page or a dashboard aggregate whose estimated cost crossed jit_above_cost.
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c jit=off"
    # Server-side binding lets psycopg prepare a statement the fifth time a connection runs it, so
    # PostgreSQL stops planning the same page queries on every request (planning was 1-6 ms of a
    # report page's joins). Turn off behind a pooler in transaction mode that cannot keep prepared
    # statements (PgBouncer before 1.21).
    if env_bool("DB_SERVER_SIDE_BINDING", True):
        DATABASES["default"]["OPTIONS"]["server_side_binding"] = True
        DATABASES["default"]["OPTIONS"]["prepare_threshold"] = env_int("DB_PREPARE_THRESHOLD", 5)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache (rate limits, the per-address sign-in limit, the staff list) -------------------------
# Limits live in the cache, so every app process must share it: a per-process cache gives each
# gunicorn worker its own count (4 workers let 4x the limit through). Production refuses to start
# without REDIS_URL.
REDIS_URL = env("REDIS_URL")
if PRODUCTION and not REDIS_URL:
    raise ImproperlyConfigured(
        "REDIS_URL must be set in production: rate limits kept in each process's memory multiply by the "
        "number of worker processes."
    )
# Several deployments (or test runs) may share one Redis: the cache's keys and the jobs' locks
# (config/tasks.py) start with this.
CACHE_KEY_PREFIX = env("CACHE_KEY_PREFIX", "reportdesk")
CACHES = {
    "default": (
        {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": CACHE_KEY_PREFIX,
        }
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

# --- Auth -----------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# django-axes first (it refuses a locked-out source before any password is checked), then
# ModelBackend's rules with permissions and role read in one query (moderation/auth.py).
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "moderation.auth.RoleAwareBackend"]
LOGIN_URL = "login"
LOGIN_ATTEMPTS_LIMIT = env_int("LOGIN_ATTEMPTS_LIMIT", 5)
LOGIN_ATTEMPTS_PER_ADDRESS = env_int("LOGIN_ATTEMPTS_PER_ADDRESS", 50)
LOGIN_ATTEMPTS_WINDOW_SECONDS = env_int("LOGIN_ATTEMPTS_WINDOW_SECONDS", 15 * 60)
# Failed sign-ins lock out the source, never the account: LOGIN_ATTEMPTS_LIMIT failures for one
# username from one address lock that pair for the window; the right password from another address
# still signs in (Django's advice: throttle the attacker, not the victim). Attempts are rows in the
# database (shared by every app process); a success resets the pair. The per-address limit over all
# usernames (LOGIN_ATTEMPTS_PER_ADDRESS, password spraying) is ours, in moderation/enforcement/signin.py: axes
# has one failure limit for every lockout parameter.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
# Read from LOGIN_ATTEMPTS_LIMIT and LOGIN_ATTEMPTS_WINDOW_SECONDS on each use (one source).
AXES_FAILURE_LIMIT = "moderation.auth.sign_in_attempts_limit"
AXES_COOLOFF_TIME = "moderation.auth.sign_in_lockout_time"
AXES_RESET_ON_SUCCESS = True
AXES_USERNAME_CALLABLE = "moderation.auth.axes_username"
AXES_CLIENT_IP_CALLABLE = "config.throttle.axes_client_ip"
AXES_LOCKOUT_CALLABLE = "moderation.enforcement.signin.sign_in_locked_out"
# The sign-in page shows the lockout; no admin pages or access log of its own (sessions say who is in).
AXES_ENABLE_ADMIN = False
AXES_DISABLE_ACCESS_LOG = True
AXES_VERBOSE = False
COMPLAINTS_PER_HOUR_PER_ADDRESS = env_int("COMPLAINTS_PER_HOUR_PER_ADDRESS", 10)
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# --- I18n -----------------------------------------------------------------------------------
# English is the default and the language of the code; Spanish and German are shipped in locale/
# (README, Languages). A person's language: the one stored on their account, else the language
# switcher's cookie, else Accept-Language (config/i18n.py).
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("es", "Español"), ("de", "Deutsch")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

# --- Static and media -----------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = Path(env("STATIC_ROOT", str(VAR_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = Path(env("MEDIA_ROOT", str(VAR_DIR / "media")))
# Evidence is never served as public media: it goes through permission-checked views.
MEDIA_URL = "/media-not-public/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Signed checkpoints of the audit chain (manage.py audit_checkpoint): somewhere the database's
    # users cannot write. A directory by default; in production an S3 bucket with object lock
    # (AUDIT_CHECKPOINT_STORAGE_BACKEND=storages.backends.s3.S3Storage and its OPTIONS as JSON).
    "audit_checkpoints": {
        "BACKEND": env("AUDIT_CHECKPOINT_STORAGE_BACKEND", "django.core.files.storage.FileSystemStorage"),
        "OPTIONS": json.loads(
            env(
                "AUDIT_CHECKPOINT_STORAGE_OPTIONS",
                json.dumps({"location": env("AUDIT_CHECKPOINT_DIR", str(VAR_DIR / "audit-checkpoints"))}),
            )
        ),
    },
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
# Outside production, whitenoise serves straight from the source folders (no collectstatic needed).
WHITENOISE_USE_FINDERS = not PRODUCTION
WHITENOISE_AUTOREFRESH = DEBUG
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
# Form fields other than files (Django's own cap; files are capped by EVIDENCE_MAX_* and the whole
# body by MAX_REQUEST_BYTES below).
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 2_621_440)

# --- Mail -----------------------------------------------------------------------------------
EMAIL_BACKEND = env(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend" if PRODUCTION else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_HOST = env("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
# Mail is written to the outbox in the change's transaction and sent by a worker (reports/outbox.py);
# without a timeout, a relay that accepts the connection and never answers would hold that worker.
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)
# A worker's claim on a mail it is sending: a worker killed mid-delivery leaves it, and another sends
# the mail after this long. Longer than a relay may take (EMAIL_TIMEOUT for each step of SMTP).
MAIL_OUTBOX_LEASE_SECONDS = env_int("MAIL_OUTBOX_LEASE_SECONDS", max(6 * EMAIL_TIMEOUT, 60))
# Sent mail stays in the outbox this long (the record, the metrics), then is deleted.
MAIL_OUTBOX_KEEP_SENT_HOURS = env_int("MAIL_OUTBOX_KEEP_SENT_HOURS", 24)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "Trust & Safety <trust-safety@localhost>")
MODERATION_ALERT_EMAILS = env_list("MODERATION_ALERT_EMAILS")

# --- Security -------------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", PRODUCTION)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", PRODUCTION)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", PRODUCTION)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000 if PRODUCTION else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = PRODUCTION
SECURE_HSTS_PRELOAD = PRODUCTION
BEHIND_TLS_PROXY = env_bool("BEHIND_TLS_PROXY", False)
if BEHIND_TLS_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Behind the proxies, REMOTE_ADDR is the last proxy; each proxy appends the address it was reached
# from to X-Forwarded-For, so the client is the entry this many from the right (config/throttle.py).
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 1)
if TRUSTED_PROXY_COUNT < 1:
    raise ImproperlyConfigured("TRUSTED_PROXY_COUNT must be at least 1 (the TLS proxy itself).")
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)

# --- Forms and API --------------------------------------------------------------------------
CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

REST_FRAMEWORK = {
    # A personal token first, so that an anonymous caller gets 401 with WWW-Authenticate.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "reports.authentication.ApiTokenAuthentication",
        "reports.authentication.PlatformKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_THROTTLE_CLASSES": ["reports.authentication.CredentialRateThrottle"],
    "DEFAULT_PARSER_CLASSES": ["config.api_errors.StrictJSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "EXCEPTION_HANDLER": "config.api_errors.api_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Report Desk API",
    "DESCRIPTION": (
        "Filing and reviewing reports on a live chat and video-chat platform.\n\n"
        "Authentication: a session (with CSRF), a personal token from the account page sent as "
        "`Authorization: Token <key>`, or for the platform's servers a platform key sent as "
        "`Authorization: Platform <key>`. Every path also accepts a trailing slash. Errors are JSON: "
        '`{"detail": "...", "errors": {"<field>": ["..."]}}`.'
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "PREPROCESSING_HOOKS": ["config.api_urls.without_slash_duplicates"],
    # Each operation names the credentials it takes (extend_schema(auth=...)); the schemes are here.
    "APPEND_COMPONENTS": {
        "securitySchemes": {
            "tokenAuth": {
                "type": "apiKey",
                "in": "header",
                "name": "Authorization",
                "description": 'A personal token from the account page, sent as "Token <key>".',
            },
            "platformKey": {
                "type": "apiKey",
                "in": "header",
                "name": "Authorization",
                "description": 'The platform\'s server key (manage.py create_platform_key), sent as "Platform <key>".',
            },
            "cookieAuth": {"type": "apiKey", "in": "cookie", "name": "sessionid"},
        }
    },
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "ReportStatusEnum": "reports.models.ReportStatus",
        "ReviewStatusEnum": "moderation.serializers.REVIEW_STATUSES",
        "TargetKindEnum": "reports.models.TargetKind",
        "TargetStateEnum": "reports.models.TargetState",
        "SanctionKindEnum": "moderation.enforcement.actions.ActionKind",
        # Two choice sets share the field name "category": both named, so neither gets a numbered name.
        "CategoryEnum": "reports.categories.Category",
        "HashBankCategoryEnum": "moderation.hashbank.models.BANK_CATEGORY_CHOICES",
    },
    # Swagger UI's files come from drf-spectacular-sidecar, served by us (nothing from a CDN).
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}
# Rate limits per credential ("<n>/second|minute|hour|day", or "off"). The per-person limit on
# filing is REPORTS_PER_HOUR_LIMIT below, the same for the web form and the API.
API_TOKEN_RATE = env("API_TOKEN_RATE", "120/minute")
PLATFORM_KEY_RATE = env("PLATFORM_KEY_RATE", "1200/minute")
API_MAX_BODY_BYTES = env_int("API_MAX_BODY_BYTES", 16 * 1024 * 1024)

# --- The report system's own rules ------------------------------------------------------------
# Hours to act, per severity. The category -> severity table is in reports/categories.py.
REPORT_DEADLINE_HOURS = {
    "critical": env_int("DEADLINE_CRITICAL_HOURS", 24),
    "high": env_int("DEADLINE_HIGH_HOURS", 7 * 24),
    "normal": env_int("DEADLINE_NORMAL_HOURS", 7 * 24),
    "low": env_int("DEADLINE_LOW_HOURS", 7 * 24),
}
REPORTS_PER_HOUR_LIMIT = env_int("REPORTS_PER_HOUR_LIMIT", 20)
if REPORTS_PER_HOUR_LIMIT < 1:
    raise ImproperlyConfigured("REPORTS_PER_HOUR_LIMIT must be at least 1 (a report an hour).")
# Trusted flaggers' reports are due in this fraction of the normal time (DSA Art. 22 priority).
TRUSTED_FLAGGER_DEADLINE_FACTOR = float(env("TRUSTED_FLAGGER_DEADLINE_FACTOR", "0.5"))
# Misuse (DSA Art. 23): manifestly unfounded reports within the window before a warning, then a pause.
MISUSE_WINDOW_DAYS = env_int("MISUSE_WINDOW_DAYS", 90)
MISUSE_WARN_AFTER = env_int("MISUSE_WARN_AFTER", 3)
MISUSE_PAUSE_AFTER = env_int("MISUSE_PAUSE_AFTER", 5)
MISUSE_PAUSE_DAYS = env_int("MISUSE_PAUSE_DAYS", 30)
# The audit chain is linked after commit (audit.services.seal_pending): each app process seals at most
# once per this many seconds after a write; `manage.py audit_seal` from cron covers quiet times.
AUDIT_SEAL_INTERVAL = float(env("AUDIT_SEAL_INTERVAL", "1.0"))
# Each event's hash is an HMAC with this key, which the database never holds: someone who can write
# the table can change events but cannot compute their hashes again. Keys retired by a rotation stay
# in AUDIT_PREVIOUS_SIGNING_KEYS (comma-separated) so that what they sealed still verifies.
AUDIT_SIGNING_KEY = env("AUDIT_SIGNING_KEY")
if not AUDIT_SIGNING_KEY:
    if PRODUCTION:
        raise ImproperlyConfigured("AUDIT_SIGNING_KEY must be set in production (and kept out of the database)")
    # bandit B105: development only; production refuses to start without AUDIT_SIGNING_KEY
    AUDIT_SIGNING_KEY = "dev-only-audit-signing-key"  # noqa: S105  # nosec B105
AUDIT_PREVIOUS_SIGNING_KEYS = env_list("AUDIT_PREVIOUS_SIGNING_KEYS")
# audit_verify reports an event sealed after a checkpoint but dated more than this before it: an
# event inserted back-dated. The longest a transaction that writes audit events may stay open.
AUDIT_BACKDATE_TOLERANCE_SECONDS = env_int("AUDIT_BACKDATE_TOLERANCE_SECONDS", 300)
REPORT_REASON_MAX_WEB = 1000
REPORT_REASON_MAX_API = 2000
EVIDENCE_MAX_FILES = 5
# Evidence chosen on a filing form that came back with an error is kept this long for the next try.
HELD_EVIDENCE_MINUTES = env_int("HELD_EVIDENCE_MINUTES", 60)
EVIDENCE_MAX_BYTES = env_int("EVIDENCE_MAX_BYTES", 10 * 1024 * 1024)
# Images larger than this many pixels are refused before decoding (decompression bombs), and so are
# all the images of one request together above the second figure (each pixel costs decoding time).
EVIDENCE_MAX_PIXELS = env_int("EVIDENCE_MAX_PIXELS", 40_000_000)
EVIDENCE_MAX_PIXELS_PER_REQUEST = env_int("EVIDENCE_MAX_PIXELS_PER_REQUEST", 50_000_000)
# The whole request body: refused with 413 from its Content-Length before it is read (or while it
# is read, when it is sent chunked). Pages: the most evidence one filing may carry and its fields;
# the API: API_MAX_BODY_BYTES.
MAX_REQUEST_BYTES = env_int("MAX_REQUEST_BYTES", EVIDENCE_MAX_FILES * EVIDENCE_MAX_BYTES + 1024 * 1024)

# The moderator's pages: how often an open report page says "I am still here" through the shared
# cache (each beat lives three of them, so a closed tab leaves within about that), and how often
# the queue asks whether new reports arrived in its view.
PRESENCE_HEARTBEAT_SECONDS = env_int("PRESENCE_HEARTBEAT_SECONDS", 15)
QUEUE_POLL_SECONDS = env_int("QUEUE_POLL_SECONDS", 30)

# Enforcement: the repeat-offender ladder within the strike window, appeals, and the platform webhook.
STRIKE_LADDER = env_list("STRIKE_LADDER", "warning,timeout:24h,suspension:7d,termination")
STRIKE_WINDOW_DAYS = env_int("STRIKE_WINDOW_DAYS", 90)
APPEAL_WINDOW_DAYS = env_int("APPEAL_WINDOW_DAYS", 183)
APPEAL_DEADLINE_DAYS = env_int("APPEAL_DEADLINE_DAYS", 7)
# Redress besides the internal appeal, in every statement of reasons (DSA Art. 17(3)(f)): certified
# out-of-court dispute settlement bodies (Art. 21) and the courts. Text and an optional link each.
# The default sentences are translated (in the recipient's language); a text set in the environment
# is shown as it is written, in every language.
REDRESS_OUT_OF_COURT_TEXT = env(
    "REDRESS_OUT_OF_COURT_TEXT",
    _(
        "You can also take this decision to a certified out-of-court dispute settlement body (Article 21 of "
        "the EU Digital Services Act). These bodies are independent of us; their decisions do not bind you, "
        "and for you they are free or cost a small fee."
    ),
)
REDRESS_OUT_OF_COURT_URL = env(
    "REDRESS_OUT_OF_COURT_URL", "https://digital-strategy.ec.europa.eu/en/policies/dsa-out-court-dispute-settlement"
)
REDRESS_JUDICIAL_TEXT = env(
    "REDRESS_JUDICIAL_TEXT",
    _("Whatever else you do, you can take this decision to court at any time, under the law that applies to you."),
)
REDRESS_JUDICIAL_URL = env("REDRESS_JUDICIAL_URL", "")
WEBHOOK_URL = env("WEBHOOK_URL")
WEBHOOK_SECRET = env("WEBHOOK_SECRET", "dev-webhook-secret" if not PRODUCTION else "")
WEBHOOK_TIMEOUT_SECONDS = env_int("WEBHOOK_TIMEOUT_SECONDS", 5)

# The hash bank (moderation/hashbank): an upload matches a bank entry when its SHA-256 is the same, or
# its PDQ hash is within this many bits of 256 (31 is PDQ's published threshold for a confident
# match). Hashes PDQ itself rates below the minimum quality (featureless images: flat colour, text
# on a plain ground) match by SHA-256 only, as they would otherwise match each other; 31 and 50 are
# the values of Meta's ThreatExchange tools.
HASHBANK_PDQ_MAX_DISTANCE = env_int("HASHBANK_PDQ_MAX_DISTANCE", 31)
if not 0 <= HASHBANK_PDQ_MAX_DISTANCE <= 63:
    raise ImproperlyConfigured("HASHBANK_PDQ_MAX_DISTANCE must be 0..63 bits (31 is PDQ's usual threshold).")
HASHBANK_PDQ_MIN_QUALITY = env_int("HASHBANK_PDQ_MIN_QUALITY", 50)

# Pre-publication review of video stories (moderation/stories): the hours a submitted story may wait
# for a moderator's verdict before it shows as overdue in its queue.
STORY_REVIEW_HOURS = env_int("STORY_REVIEW_HOURS", 24)
if STORY_REVIEW_HOURS < 1:
    raise ImproperlyConfigured("STORY_REVIEW_HOURS must be at least 1.")

# EU DSA Transparency Database exports: where decisions apply (default: the whole EEA).
DSA_TERRITORIAL_SCOPE = env_list(
    "DSA_TERRITORIAL_SCOPE",
    "AT,BE,BG,CY,CZ,DE,DK,EE,ES,FI,FR,GR,HR,HU,IE,IS,IT,LI,LT,LU,LV,MT,NL,NO,PL,PT,RO,SE,SI,SK",
)

# --- Background work: Celery (config/celery.py; the schedule is there) ---------------------------
# The broker: CELERY_BROKER_URL, else in production REDIS_URL (required there). Without one (the demo,
# development, the SQLite tests) tasks run in the process that asks for them, right after the commit
# of the change that wrote their rows (CELERY_TASK_ALWAYS_EAGER), and nothing runs on a schedule.
CELERY_BROKER_URL = env("CELERY_BROKER_URL", REDIS_URL if PRODUCTION else "")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
# The outboxes' rows are the state; no task returns anything anyone waits for.
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
# This deployment's queue on a shared broker (tests give each run its own).
CELERY_TASK_DEFAULT_QUEUE = env("CELERY_QUEUE", "reportdesk")
# A message is acknowledged after its task ran, and given back when its worker dies, so a killed
# worker's job runs again elsewhere (every job is safe to run twice: the rows say what is done).
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A request that asks for a task (an outbox's wake) must not wait on a broker that is down: one
# try, a short connect timeout; the schedule runs the task anyway.
CELERY_TASK_PUBLISH_RETRY = False
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600, "socket_connect_timeout": 2, "socket_timeout": 5}
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_TIMEZONE = "UTC"
# The schedule's jobs (config/celery.py): evidence of closed cases is purged after this many days.
EVIDENCE_RETENTION_DAYS = env_int("EVIDENCE_RETENTION_DAYS", 365)
if EVIDENCE_RETENTION_DAYS < 1:
    raise ImproperlyConfigured("EVIDENCE_RETENTION_DAYS must be at least 1")

# --- Operations: metrics and logs -------------------------------------------------------------
# GET /metrics (config/monitoring.py) answers only with `Authorization: Bearer <METRICS_TOKEN>`;
# without a token set it does not exist. Several gunicorn workers share their request histograms
# through the PROMETHEUS_MULTIPROC_DIR environment variable (read by prometheus-client itself).
METRICS_TOKEN = env("METRICS_TOKEN")
if PRODUCTION and METRICS_TOKEN and len(METRICS_TOKEN) < 32:
    raise ImproperlyConfigured("METRICS_TOKEN must be at least 32 characters (secrets.token_urlsafe(32))")

# One line per request (config/requestlog.py): JSON in production, for the log pipeline; plain
# text in development, for people. Every record carries the request id.
LOG_FORMAT = env("LOG_FORMAT", "json" if PRODUCTION else "plain")
if LOG_FORMAT not in {"json", "plain"}:
    raise ImproperlyConfigured("LOG_FORMAT must be 'json' or 'plain'")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "config.requestlog.RequestIdFilter"}},
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["request_id"]},
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # pikepdf says on import that its C++ log bridge started; axes logs every failed sign-in itself.
        "pikepdf": {"level": "WARNING"},
        "axes": {"level": "ERROR"},
        # Django's "Not Found: /path" warnings would write raw paths (report ids, signed appeal
        # tokens) to the production log; the request line names the route instead. Errors stay.
        "django.request": {"level": "ERROR" if PRODUCTION else "WARNING"},
    },
}
