"""Settings of Wharf's site, all from the environment (12-factor).

WHARF_ENV picks a profile: ``development`` (DEBUG on), ``local`` (the embedded
default started by scripts/setup.sh: DEBUG off, plain HTTP on 127.0.0.1),
``production`` (HTTPS-only cookies, HSTS; passes ``manage.py check --deploy``)
and ``test``. Outside development and test there is no default secret key.
"""

from __future__ import annotations

from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from redis.asyncio.retry import Retry as AsyncRetry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from webapp.env import env_bool, env_int, env_list, env_secret, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
WHARF_ENV = env_str("WHARF_ENV", "development")
if WHARF_ENV not in {"development", "local", "production", "test"}:
    raise ImproperlyConfigured(
        f"WHARF_ENV must be development, local, production or test, not {WHARF_ENV!r}"
    )

DEBUG = env_bool("DEBUG", WHARF_ENV == "development")

SECRET_KEY = env_secret("SECRET_KEY")
if not SECRET_KEY:
    if WHARF_ENV in {"development", "test"}:
        SECRET_KEY = "insecure-" + WHARF_ENV + "-only-key-never-used-in-production-0123456789abcdef"
    else:
        raise ImproperlyConfigured(
            "SECRET_KEY (or SECRET_KEY_FILE) must be set outside development"
        )

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "channels",
    "webapp.accounts",
    "webapp.fleet",
    "webapp.jobs",
    "webapp.inventory",
    "webapp.registries",
    "webapp.audit",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "webapp.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "webapp.nul_bytes.NulBytesMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "webapp.audit.services.AuditMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "webapp.urls"
ASGI_APPLICATION = "webapp.asgi.application"
WSGI_APPLICATION = None

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
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'var' / 'db.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 0),
    )
}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # Worker, web and scheduler write to one file: wait for the lock instead of failing.
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 30
    DATABASES["default"]["OPTIONS"]["init_command"] = "PRAGMA journal_mode=WAL;"
    # A transaction that reads and then writes must take the write lock first: a deferred one
    # that upgrades while another process writes fails at once ("database is locked"),
    # whatever the timeout.
    DATABASES["default"]["OPTIONS"]["transaction_mode"] = "IMMEDIATE"
elif DATABASES["default"]["ENGINE"].endswith("postgresql"):
    # A pool of open connections: a new PostgreSQL connection per request cost ~10 ms
    # (bench/site_scale.py); Django has the pool check each one before use, so a database
    # that restarted gives fresh ones. (Django's persistent connections are not for ASGI.)
    DATABASES["default"]["CONN_MAX_AGE"] = 0  # the pool keeps them instead
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": 1,
        "max_size": env_int("DATABASE_POOL_SIZE", 8),
        "timeout": 30,
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Every password check is throttled per account and per client address (webapp.accounts.throttle).
AUTHENTICATION_BACKENDS = ["webapp.accounts.backends.ThrottledModelBackend"]
WHARF_SIGNIN_WINDOW_SECONDS = env_int("WHARF_SIGNIN_WINDOW_SECONDS", 15 * 60)
WHARF_SIGNIN_ACCOUNT_LIMIT = env_int("WHARF_SIGNIN_ACCOUNT_LIMIT", 5)
WHARF_SIGNIN_ADDRESS_LIMIT = env_int("WHARF_SIGNIN_ADDRESS_LIMIT", 20)
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "var" / "staticfiles")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
if WHARF_ENV == "test":
    STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
    # tests make many users; a slow hash protects real passwords, not these
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# --- Redis: Celery's broker and the Channels layer -------------------------
REDIS_URL = env_str("REDIS_URL", "redis://127.0.0.1:6379/0")
# channels_redis waits for a consumer's messages with BZPOPMIN, 5 s at a time, and redis-py 8
# reads every reply with a 5-s socket timeout by default: on a quiet socket the two raced, the
# read lost ("TimeoutError: Timeout reading from …") and the consumer died with its websocket.
# Reads wait longer than any blocking command; idle connections are checked before reuse.
# After a restart of Redis a pooled connection is dead: its first command is tried again on a
# new connection (redis-py's asyncio client does not retry unless told), so no consumer and
# no publisher loses a message to a Redis that is back.
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {
            "hosts": [
                {
                    "address": REDIS_URL,
                    "socket_timeout": 30,
                    "socket_connect_timeout": 5,
                    "socket_keepalive": True,
                    "health_check_interval": 30,
                    "retry": AsyncRetry(ExponentialBackoff(cap=1.0, base=0.05), 3),
                    "retry_on_error": [RedisConnectionError, RedisTimeoutError],
                }
            ],
            "capacity": 1000,
            "expiry": 60,
        },
    }
}
if WHARF_ENV == "test" and not env_bool("WHARF_TEST_REDIS_LAYER"):
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
# The cache holds state every ASGI process must share (the sign-in throttle's counters).
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "wharf",
    }
}
if WHARF_ENV == "test" and not env_bool("WHARF_TEST_REDIS_CACHE"):
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Jobs and hosts ----------------------------------------------------------
# How long a job may run unless its kind says otherwise (soft limit; the hard
# one, enforced on the host, is a minute later).
WHARF_JOB_TIME_LIMIT = env_int("WHARF_JOB_TIME_LIMIT", 3 * 3600)
# A queued job that no worker took by then ends as expired (its host away).
WHARF_JOB_QUEUE_DEADLINE = env_int("WHARF_JOB_QUEUE_DEADLINE", 3600)
WHARF_HEARTBEAT_SECONDS = env_int("WHARF_HEARTBEAT_SECONDS", 10)
WHARF_UNREACHABLE_AFTER = env_int("WHARF_UNREACHABLE_AFTER", 45)
WHARF_UNREACHABLE_CHECK_SECONDS = env_int("WHARF_UNREACHABLE_CHECK_SECONDS", 15)
# A live stream (logs, stats, exec) waits this long for its host to dial in.
WHARF_STREAM_WAIT = env_int("WHARF_STREAM_WAIT", 15)
# A job past its soft limit is killed this much later (the hard limit).
WHARF_JOB_HARD_GRACE = env_int("WHARF_JOB_HARD_GRACE", 60)
# Fault tests only: the "test.sleep" job kind and its soft limit.
WHARF_TEST_JOBS = env_bool("WHARF_TEST_JOBS", False)
WHARF_TEST_JOB_TIME_LIMIT = env_int("WHARF_TEST_JOB_TIME_LIMIT", 600)
# The site's Ed25519 key that signs job messages; hosts get its public half.
WHARF_SIGNING_KEY_FILE = env_str(
    "WHARF_SIGNING_KEY_FILE", str(BASE_DIR / "var" / "job_signing_key")
)
# The key that seals registry credentials in the database (docs/security.md): Fernet keys,
# comma-separated (the first seals, all open), from WHARF_CREDENTIALS_KEY or else the file
# WHARF_CREDENTIALS_KEY_FILE, which is made on first use (mode 0600), never in the database.
WHARF_CREDENTIALS_KEY = env_str("WHARF_CREDENTIALS_KEY", "")
WHARF_CREDENTIALS_KEY_FILE = env_str(
    "WHARF_CREDENTIALS_KEY_FILE", str(BASE_DIR / "var" / "credentials_key")
)
# Uploads a job's host fetches (build contexts, image archives): on disk here, at most this big.
WHARF_UPLOAD_DIR = env_str("WHARF_UPLOAD_DIR", str(BASE_DIR / "var" / "uploads"))
WHARF_UPLOAD_MAX_BYTES = env_int("WHARF_UPLOAD_MAX_BYTES", 2 * 1024**3)
# The broker as hosts reach it (default: REDIS_URL's address); each host gets its own user.
WHARF_HOST_BROKER_URL = env_str("WHARF_HOST_BROKER_URL", "")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "webapp.accounts.tokens.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # JSON only, bounded in size and depth; integers in queries read by webapp.api.params
    "DEFAULT_PARSER_CLASSES": ["webapp.api.parsers.StrictJSONParser"],
    "EXCEPTION_HANDLER": "webapp.api.errors.api_exception_handler",
    "DEFAULT_PAGINATION_CLASS": "webapp.api.pagination.StrictLimitOffsetPagination",
    "PAGE_SIZE": 100,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Wharf API",
    "DESCRIPTION": "Automation API of Wharf: hosts, jobs and (later) images, containers, volumes, networks.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI from our own static files (npm's swagger-ui-dist, pinned in package.json and
    # copied by scripts/setup.sh), never from a CDN; no validator badge from validator.swagger.io.
    "SWAGGER_UI_DIST": f"/{STATIC_URL.strip('/')}/vendor/swagger-ui",
    "SWAGGER_UI_FAVICON_HREF": f"/{STATIC_URL.strip('/')}/vendor/swagger-ui/favicon-32x32.png",
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "webapp.api.schema.add_components",
    ],
}

# --- Security -----------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
# Scripts never read the CSRF cookie: pages carry the token (base.html's meta tag and hx-headers).
CSRF_COOKIE_HTTPONLY = True
# A refused form says why and leads back to its page (or to sign in again), not Django's raw 403.
CSRF_FAILURE_VIEW = "webapp.pages.csrf_failure"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if WHARF_ENV == "production":
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}
