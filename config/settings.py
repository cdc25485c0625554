"""Settings, all read from environment variables.

DJANGO_ENV selects the profile: "development" (the default: DEBUG on, SQLite under var/, mail
printed to the console) or "production" (DEBUG off, SECRET_KEY and ALLOWED_HOSTS required,
HTTPS-only cookies, HSTS). Every value can still be overridden one by one.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

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
    "django.contrib.admin",
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
    "audit",
    "reports",
    "moderation",
    "moderation.enforcement",
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
    "django.middleware.security.SecurityMiddleware",
    "config.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "moderation.enforcement.signin.SanctionedSessionMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "config.middleware.DatabaseUnavailableMiddleware",
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
                "config.context_processors.navigation",
            ],
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

# --- Cache (sign-in throttling, rate limits): shared Redis with several app servers ---------
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": env("REDIS_URL")}
        if env("REDIS_URL")
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
# ModelBackend's rules, with permissions and role read in one query (moderation/auth.py).
AUTHENTICATION_BACKENDS = ["moderation.auth.RoleAwareBackend"]
LOGIN_URL = "login"
LOGIN_ATTEMPTS_LIMIT = env_int("LOGIN_ATTEMPTS_LIMIT", 5)
LOGIN_ATTEMPTS_PER_ADDRESS = env_int("LOGIN_ATTEMPTS_PER_ADDRESS", 50)
LOGIN_ATTEMPTS_WINDOW_SECONDS = env_int("LOGIN_ATTEMPTS_WINDOW_SECONDS", 15 * 60)
COMPLAINTS_PER_HOUR_PER_ADDRESS = env_int("COMPLAINTS_PER_HOUR_PER_ADDRESS", 10)
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# --- I18n -----------------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
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
DATA_UPLOAD_MAX_MEMORY_SIZE = 60 * 1024 * 1024

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
# Mail goes out after commit, inside the request: without a timeout, a relay that accepts the
# connection and never answers would hold the request's worker thread for good.
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)
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
if env_bool("BEHIND_TLS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
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
REPORT_REASON_MAX_WEB = 1000
REPORT_REASON_MAX_API = 2000
EVIDENCE_MAX_FILES = 5
EVIDENCE_MAX_BYTES = env_int("EVIDENCE_MAX_BYTES", 10 * 1024 * 1024)
# Images larger than this many pixels are refused before decoding (decompression bombs).
EVIDENCE_MAX_PIXELS = env_int("EVIDENCE_MAX_PIXELS", 40_000_000)

# Enforcement: the repeat-offender ladder within the strike window, appeals, and the platform webhook.
STRIKE_LADDER = env_list("STRIKE_LADDER", "warning,timeout:24h,suspension:7d,termination")
STRIKE_WINDOW_DAYS = env_int("STRIKE_WINDOW_DAYS", 90)
APPEAL_WINDOW_DAYS = env_int("APPEAL_WINDOW_DAYS", 183)
APPEAL_DEADLINE_DAYS = env_int("APPEAL_DEADLINE_DAYS", 7)
WEBHOOK_URL = env("WEBHOOK_URL")
WEBHOOK_SECRET = env("WEBHOOK_SECRET", "dev-webhook-secret" if not PRODUCTION else "")
WEBHOOK_TIMEOUT_SECONDS = env_int("WEBHOOK_TIMEOUT_SECONDS", 5)

# EU DSA Transparency Database exports: where decisions apply (default: the whole EEA).
DSA_TERRITORIAL_SCOPE = env_list(
    "DSA_TERRITORIAL_SCOPE",
    "AT,BE,BG,CY,CZ,DE,DK,EE,ES,FI,FR,GR,HR,HU,IE,IS,IT,LI,LT,LU,LV,MT,NL,NO,PL,PT,RO,SE,SI,SK",
)

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
        # Django's "Not Found: /path" warnings would write raw paths (report ids, signed appeal
        # tokens) to the production log; the request line names the route instead. Errors stay.
        "django.request": {"level": "ERROR" if PRODUCTION else "WARNING"},
    },
}
