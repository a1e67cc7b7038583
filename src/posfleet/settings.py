"""Settings, all from environment variables (see the README's table).

Development defaults make `scripts/start` work on a fresh machine; production mode (DEBUG off) refuses
to start with the development secret key or key-encryption key, because a deployment that forgot to set
them would sign sessions and wrap terminal keys with values anyone can read in this file.
"""

from __future__ import annotations

import base64
import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent
VAR_DIR = Path(os.environ.get("POSFLEET_VAR_DIR", Path.cwd() / "var")).resolve()


def _bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


DEV_SECRET_KEY = "posfleet-development-secret-key-do-not-use-in-production"
# 32 bytes, base64: the development key-encryption key for wrapping terminal master keys.
DEV_KEK = base64.b64encode(b"posfleet-dev-kek-not-for-prod!!!").decode()

# Production mode (POSFLEET_PRODUCTION=1) is how a deployment says "this is real": it refuses to start
# with DEBUG on or with the development secret key or key-encryption key. DEBUG is off unless a
# developer turns it on (DEBUG=1): its pages show settings and source to whoever asks for a wrong URL.
PRODUCTION = _bool("POSFLEET_PRODUCTION", False)
DEBUG = _bool("DEBUG", False)
SECRET_KEY = os.environ.get("SECRET_KEY", DEV_SECRET_KEY)
POSFLEET_KEK = os.environ.get("POSFLEET_KEK", DEV_KEK)
ALLOWED_HOSTS = [
    h.strip() for h in os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",")
]
CSRF_TRUSTED_ORIGINS = [
    o.strip()
    for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "http://127.0.0.1:8000,http://localhost:8000").split(",")
]

if PRODUCTION:
    if DEBUG:
        raise ImproperlyConfigured("DEBUG must be off in production (POSFLEET_PRODUCTION=1).")
    if SECRET_KEY == DEV_SECRET_KEY:
        raise ImproperlyConfigured("SECRET_KEY must be set in production (POSFLEET_PRODUCTION=1).")
    if POSFLEET_KEK == DEV_KEK:
        raise ImproperlyConfigured("POSFLEET_KEK must be set in production (POSFLEET_PRODUCTION=1).")
try:
    if len(base64.b64decode(POSFLEET_KEK, validate=True)) not in (16, 24, 32):
        raise ValueError
except ValueError as exc:
    raise ImproperlyConfigured("POSFLEET_KEK must be 16, 24 or 32 bytes, base64-encoded.") from exc

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "huey.contrib.djhuey",
    "django_prometheus",
    "ninja",  # serves Swagger UI from its own static files (works offline)
    "posfleet.core",
    "posfleet.audit",
    "posfleet.accounts",
    "posfleet.jobs",
    "posfleet.registry",
    "posfleet.lifecycle",
    "posfleet.money",
    "posfleet.settlement",
    "posfleet.keys",
    "posfleet.notices",
    "posfleet.cases",
    "posfleet.repair",
    "posfleet.api",
    "posfleet.console",
    "posfleet.portal",
    "posfleet.devtools",  # bench and demo data: imports the apps above, none imports it
]

MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "posfleet.api.middleware.JsonErrorsMiddleware",  # errors under /api/ in the API's shape
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",  # /static/ from STATIC_ROOT, no proxy needed
    "django.contrib.sessions.middleware.SessionMiddleware",
    "posfleet.core.middleware.LanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "posfleet.core.middleware.RequestIdMiddleware",
    "axes.middleware.AxesMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "posfleet.urls"
WSGI_APPLICATION = "posfleet.wsgi.application"

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
                "django.template.context_processors.i18n",
                "posfleet.notices.context.hotline",
            ],
        },
    },
]

# --- database -------------------------------------------------------------------------------------
DATABASE_URL = os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'posfleet.sqlite3'}")
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=0)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers (the eligibility answer) run while a writer commits; IMMEDIATE avoids the
    # deadlock-prone upgrade from a read to a write lock inside a transaction.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=20000;",
    }
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Django binds parameters client-side (never prepared); the few fixed statements that run on a
    # server-binding cursor (core.sql.open_cursor(prepared=True): the answer) are prepared by
    # psycopg after this many runs on a connection, which skips PostgreSQL's planning (~0.5 ms).
    DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = 5
    # No JIT: a console page's aggregate over one merchant's month is estimated costly enough to be
    # compiled, and compiling took ~380 ms of a 570 ms statement whose work was 125 ms.
    DATABASES["default"]["OPTIONS"].setdefault("options", "-c jit=off")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- auth -----------------------------------------------------------------------------------------
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
]
LOGIN_URL = "console:login"
LOGIN_REDIRECT_URL = "console:dashboard"
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = 0.5  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
STEP_UP_SECONDS = 300
OTP_TOTP_ISSUER = "posfleet"

# --- i18n -----------------------------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
# The institution's time zone: business days, their settlement cut-off and naive times are read in it.
TIME_ZONE = os.environ.get("POSFLEET_TIME_ZONE", "Asia/Shanghai")
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
MEDIA_ROOT = VAR_DIR / "media"
# The app serves its own static files (WhiteNoise): `posfleet collectstatic` writes them with a content
# hash in their names and compressed copies, so they are cached for ever and a new release's files are
# new names. Without collectstatic (tests, `runserver` with DEBUG on) the plain storage serves them.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# --- jobs -----------------------------------------------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
_huey_immediate = _bool("HUEY_IMMEDIATE", False)
if REDIS_URL:
    HUEY = {
        "huey_class": "huey.RedisHuey",
        "name": "posfleet",
        "url": REDIS_URL,
        "immediate": _huey_immediate,
        "consumer": {"workers": 2, "worker_type": "thread"},
    }
else:
    HUEY = {
        "huey_class": "huey.SqliteHuey",
        "name": "posfleet",
        "filename": str(VAR_DIR / "huey.sqlite3"),
        "immediate": _huey_immediate,
        "consumer": {"workers": 2, "worker_type": "thread"},
    }

# A running job's worker is trusted this long after its last heartbeat (it beats every quarter of it);
# then the sweep queues the job again. Work bigger than POSFLEET_BULK_INLINE_MAX terminals (a bulk
# hold placed or released) runs as a job instead of inside the request.
JOBS_LEASE_SECONDS = max(int(os.environ.get("POSFLEET_JOB_LEASE_SECONDS", "120")), 1)
BULK_INLINE_MAX = int(os.environ.get("POSFLEET_BULK_INLINE_MAX", "1000"))

# --- cache (rate limits) ---------------------------------------------------------------------------
# Per-process memory by default; with Redis every process shares the counters (verification rate limit).
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}

# --- the institution, letters, uploads ------------------------------------------------------------
POSFLEET_INSTITUTION = os.environ.get("POSFLEET_INSTITUTION", "示例支付有限公司")
POSFLEET_PUBLIC_URL = os.environ.get("POSFLEET_PUBLIC_URL", "http://127.0.0.1:8000")
# Hours within which a risk officer decides a merchant's appeal against a stop (the queue flags it after).
POSFLEET_APPEAL_SLA_HOURS = int(os.environ.get("POSFLEET_APPEAL_SLA_HOURS", "48"))
# The institution's official customer-service number, printed on every notice, letter and the verify page.
POSFLEET_HOTLINE = os.environ.get("POSFLEET_HOTLINE", "95000")
POSFLEET_VERIFY_RATE_PER_MINUTE = int(os.environ.get("POSFLEET_VERIFY_RATE_PER_MINUTE", "10"))
# A bearer token a Prometheus server sends to scrape /metrics (besides a staff user's API token).
POSFLEET_METRICS_TOKEN = os.environ.get("POSFLEET_METRICS_TOKEN", "")
POSFLEET_CJK_FONT = os.environ.get("POSFLEET_CJK_FONT", "")
# --- notices of stops and lifts, and their channels ------------------------------------------------
# A maintenance window (any hold scheduled ahead) is announced this many hours before it starts.
POSFLEET_NOTICE_LEAD_HOURS = int(os.environ.get("POSFLEET_NOTICE_LEAD_HOURS", "24"))
# How long a merchant has to appeal a stop the institution placed.
POSFLEET_APPEAL_DAYS = int(os.environ.get("POSFLEET_APPEAL_DAYS", "15"))
# SMS: the file backend (default) writes each message under VAR_DIR/sms; the Aliyun one sends it.
POSFLEET_SMS_BACKEND = os.environ.get("POSFLEET_SMS_BACKEND", "posfleet.notices.sms.FileBackend")
ALIYUN_SMS_ACCESS_KEY_ID = os.environ.get("ALIYUN_SMS_ACCESS_KEY_ID", "")
ALIYUN_SMS_ACCESS_KEY_SECRET = os.environ.get("ALIYUN_SMS_ACCESS_KEY_SECRET", "")
ALIYUN_SMS_ENDPOINT = os.environ.get("ALIYUN_SMS_ENDPOINT", "dysmsapi.aliyuncs.com")
ALIYUN_SMS_SIGN_NAME = os.environ.get("ALIYUN_SMS_SIGN_NAME", "")
# One approved template per notice kind: stop, lift, deactivation (JSON object or "kind=CODE,…").
ALIYUN_SMS_TEMPLATE_CODES = os.environ.get("ALIYUN_SMS_TEMPLATE_CODES", "")
# E-mail through Django's SMTP backend once EMAIL_HOST is set; without it each message is written
# under VAR_DIR/mail (Django's file backend), so a machine without a mail server still works.
EMAIL_HOST = os.environ.get("EMAIL_HOST", "")
EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.filebased.EmailBackend",
)
EMAIL_FILE_PATH = str(VAR_DIR / "mail")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = _bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = _bool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = int(os.environ.get("EMAIL_TIMEOUT", "20"))
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "notices@posfleet.invalid")
# Webhooks: an endpoint is disabled after this many failed deliveries in a row (at once on 410 Gone).
POSFLEET_WEBHOOK_DISABLE_AFTER = int(os.environ.get("POSFLEET_WEBHOOK_DISABLE_AFTER", "10"))
POSFLEET_WEBHOOK_TIMEOUT = float(os.environ.get("POSFLEET_WEBHOOK_TIMEOUT", "10"))
# Money: a business day may be settled from this time (HH:MM, institution's time zone) of the next
# day on; a transaction may be stamped up to this many seconds ahead of our clock (terminal clocks).
POSFLEET_SETTLEMENT_CUTOFF = os.environ.get("POSFLEET_SETTLEMENT_CUTOFF", "00:00")
POSFLEET_CLOCK_SKEW_SECONDS = int(os.environ.get("POSFLEET_CLOCK_SKEW_SECONDS", "300"))
CASE_MATERIAL_MAX_BYTES = int(os.environ.get("CASE_MATERIAL_MAX_BYTES", str(10 * 1024 * 1024)))
DATA_UPLOAD_MAX_MEMORY_SIZE = CASE_MATERIAL_MAX_BYTES + 1024 * 1024

# --- logging --------------------------------------------------------------------------------------
from posfleet.core.logging import configure as _configure_logging  # noqa: E402

LOGGING = _configure_logging(json=PRODUCTION)
LOGGING["root"]["level"] = os.environ.get("LOG_LEVEL", "INFO")

if PRODUCTION:
    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", True)
    CSRF_COOKIE_SECURE = _bool("CSRF_COOKIE_SECURE", True)

VAR_DIR.mkdir(parents=True, exist_ok=True)
STATIC_ROOT.mkdir(exist_ok=True)  # WhiteNoise scans it at start (empty until collectstatic)
