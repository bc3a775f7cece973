"""Settings for the employer online service hall (单位网上服务大厅).

One module, configured by environment variables (README「配置」lists them all).
Development defaults exist only while DEBUG is on; production (GJJ_DEBUG unset or 0)
refuses to start without its secrets.
"""

import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent


def env(name: str, default: str | None = None) -> str | None:
    """Read a setting from the environment, or from the file named by NAME_FILE (secret stores)."""
    file_path = os.environ.get(f"{name}_FILE")
    if file_path:
        return Path(file_path).read_text(encoding="utf-8").strip()
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    value = env(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in (env(name, default) or "").split(",") if item.strip()]


DEBUG = env_bool("GJJ_DEBUG", False)
TESTING = env_bool("GJJ_TESTING", False)

# Development-only keys: used only while DEBUG is on, never in production.
_DEV_SECRET_KEY = "dev-only-secret-key-not-for-production-use-0000"
_DEV_MASTER_KEY = "ZGV2LW9ubHktbWFzdGVyLWtleS1ub3QtZm9yLXByb2Q="


def _secret(name: str, dev_default: str) -> str:
    value = env(name)
    if value:
        if value.startswith("django-insecure-") or value in {_DEV_SECRET_KEY, _DEV_MASTER_KEY}:
            if not DEBUG:
                raise ImproperlyConfigured(f"{name} 使用了开发密钥，生产环境不能启动。")
        return value
    if DEBUG:
        return dev_default
    raise ImproperlyConfigured(f"生产环境必须设置环境变量 {name}（或 {name}_FILE）。")


SECRET_KEY = _secret("GJJ_SECRET_KEY", _DEV_SECRET_KEY)
# Master key for field encryption, blind indexes, the audit MAC and TOTP seeds; each purpose
# gets its own key derived with HKDF-SM3 (gjj_portal/crypto.py). Base64 of at least 32 bytes.
# GJJ_MASTER_KEY is the key of GJJ_ACTIVE_KEY_ID; older keys stay readable during rotation:
# GJJ_ACTIVE_KEY_ID=k2 GJJ_MASTER_KEY=<new> GJJ_OLD_MASTER_KEYS="k1=<old>,k0=<older>".
GJJ_ACTIVE_KEY_ID = env("GJJ_ACTIVE_KEY_ID", "k1")
GJJ_MASTER_KEYS = {GJJ_ACTIVE_KEY_ID: _secret("GJJ_MASTER_KEY", _DEV_MASTER_KEY)}
for _pair in env_list("GJJ_OLD_MASTER_KEYS"):
    _kid, _, _key = _pair.partition("=")
    if _kid == GJJ_ACTIVE_KEY_ID:  # it would silently replace the new key with an old one
        raise ImproperlyConfigured(f"GJJ_OLD_MASTER_KEYS 中的密钥编号 {_kid} 与 GJJ_ACTIVE_KEY_ID 相同；旧密钥须使用各自原来的编号。")
    GJJ_MASTER_KEYS[_kid] = _key
GJJ_CRYPTO_SUITE = env("GJJ_CRYPTO_SUITE", "sm4-gcm")  # or aes-256-gcm

ALLOWED_HOSTS = env_list("GJJ_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("GJJ_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "django_tasks_db",
    "gjj_portal",
    "employers",
    "approvals",
    "members",
    "remittance",
]

MIDDLEWARE = [
    # Outermost, so that it counts every query; it takes itself out unless GJJ_BENCH_QUERY_HEADER is set.
    "gjj_portal.middleware.QueryCountMiddleware",
    "gjj_portal.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    # Before CSRF: a marked upload view explains a body Django refuses to parse (too many files, a huge file name).
    "gjj_portal.uploads.UploadRefusalMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Before the session guard: it tells a signed-out user why (SEC-14, SEC-16).
    "django.contrib.messages.middleware.MessageMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "employers.middleware.SessionGuardMiddleware",
    "employers.middleware.ClosedEmployerMiddleware",  # a closed employer's agents read and print only
    "employers.middleware.HtmxLoginRequiredMiddleware",
    # 经办人管理: the agent's business permission for the pages outside the 清册 engine (汇缴, the queries).
    "employers.middleware.BusinessPermissionMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "gjj_portal.middleware.NoStoreMiddleware",
    "gjj_portal.middleware.QueryTimeoutMiddleware",
]

# bench/scale.py sets it on its own server: responses carry X-Query-Count and X-Query-Ms. Never in a deployment.
GJJ_BENCH_QUERY_HEADER = env_bool("GJJ_BENCH_QUERY_HEADER", False)

ROOT_URLCONF = "gjj_portal.urls"
WSGI_APPLICATION = "gjj_portal.wsgi.application"
ASGI_APPLICATION = "gjj_portal.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "employers.context_processors.portal",
            ],
            "builtins": ["gjj_portal.templatetags.gjj"],
        },
    }
]


def _database_from_url(url: str) -> dict:
    from urllib.parse import parse_qsl, unquote, urlparse

    parsed = urlparse(url)
    if parsed.scheme not in {"postgres", "postgresql"}:
        raise ImproperlyConfigured("DATABASE_URL 只支持 postgres://（PostgreSQL）。")
    options = dict(parse_qsl(parsed.query))
    if not DEBUG and not TESTING and parsed.hostname:  # SEC-40: over the network, encrypted and the server verified
        options.setdefault("sslmode", "verify-full")
        if options["sslmode"] != "verify-full":
            raise ImproperlyConfigured("生产环境的 DATABASE_URL 须使用 sslmode=verify-full（加密并校验数据库服务器证书），"
                                       "或经本机套接字连接（postgres:///库名）。")
    timeout = int(env("GJJ_WEB_STATEMENT_TIMEOUT_MS", "15000"))
    if os.environ.get("GJJ_WEB_PROCESS") == "1" and timeout > 0:
        # The web workers only (gjj_portal/wsgi.py sets GJJ_WEB_PROCESS): a pathological query fails fast instead of
        # holding a worker; the task worker and management commands run unbounded.
        # JIT off as well: it compiles for hundreds of milliseconds to save a few on a page's short queries.
        options["options"] = f"{options.get('options', '')} -c statement_timeout={timeout} -c jit=off".strip()
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": unquote(parsed.path.lstrip("/")),
        "USER": unquote(parsed.username or ""),
        "PASSWORD": unquote(parsed.password or ""),
        "HOST": parsed.hostname or "",
        "PORT": str(parsed.port or ""),
        "OPTIONS": options,
        "CONN_MAX_AGE": int(env("GJJ_CONN_MAX_AGE", "60")),
        "CONN_HEALTH_CHECKS": True,
    }


DATABASE_URL = env("DATABASE_URL")
if DATABASE_URL:
    DATABASES = {"default": _database_from_url(DATABASE_URL)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": env("GJJ_SQLITE_PATH", str(BASE_DIR / "db.sqlite3")),
            # IMMEDIATE: a second writer waits for the lock instead of failing mid-transaction.
            "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": 20},
        }
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "employers.User"
AUTHENTICATION_BACKENDS = ["employers.auth.PortalBackend"]
LOGIN_URL = "employers:login"
LOGIN_REDIRECT_URL = "home"

PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]
if TESTING:
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator",
     "OPTIONS": {"user_attributes": ("username", "first_name", "last_name", "login_name")}},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "employers.validators.ContextWordsValidator"},
    {"NAME": "employers.validators.ComplexityValidator"},
    {"NAME": "employers.validators.PasswordHistoryValidator", "OPTIONS": {"history": 5}},
]
# 等保 profile (SECURITY.md §1.5): passwords expire after this many days (0 turns it off).
GJJ_PASSWORD_MAX_AGE_DAYS = int(env("GJJ_PASSWORD_MAX_AGE_DAYS", "90"))

LANGUAGE_CODE = "zh-hans"
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG or TESTING
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
# Uploaded archives live outside the static files and are served only by authorised views.
MEDIA_ROOT = Path(env("GJJ_MEDIA_ROOT", str(BASE_DIR / "var" / "media")))

# Sessions (SEC-14, SEC-15): idle and absolute timeouts are enforced by SessionGuardMiddleware.
SESSION_ENGINE = "django.contrib.sessions.backends.db"
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
# The session is written when it changes; the idle clock (SESSION_LAST_SEEN) moves at most once a minute, so a
# request is no database write of its own (employers.middleware.SessionGuardMiddleware).
SESSION_SAVE_EVERY_REQUEST = False
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
CSRF_FAILURE_VIEW = "gjj_portal.csrf.csrf_failure"
GJJ_SESSION_IDLE_MINUTES = int(env("GJJ_SESSION_IDLE_MINUTES", "15"))  # SEC-14 (等保 超时自动退出; ASVS L3 with 2FA)
GJJ_SESSION_ABSOLUTE_HOURS = int(env("GJJ_SESSION_ABSOLUTE_HOURS", "8"))
SESSION_COOKIE_AGE = GJJ_SESSION_ABSOLUTE_HOURS * 3600

# Login failure handling (SEC-09).
GJJ_LOCKOUT_FAILURES = int(env("GJJ_LOCKOUT_FAILURES", "5"))
GJJ_LOCKOUT_MINUTES = int(env("GJJ_LOCKOUT_MINUTES", "15"))
GJJ_IP_FAILURES_PER_HOUR = int(env("GJJ_IP_FAILURES_PER_HOUR", "50"))
GJJ_LOGIN_STEP_MINUTES = 5
# A password reset link from the center works once, within this time (SEC-12).
PASSWORD_RESET_TIMEOUT = 24 * 3600
# Accounts with no login for this many days are disabled by `disable_dormant_users` (SEC-11).
GJJ_DORMANT_DAYS = int(env("GJJ_DORMANT_DAYS", "90"))
# Processes that check one large imported file (gjj_portal.parallel); empty means the cores the worker may use.
GJJ_IMPORT_PROCESSES = int(env("GJJ_IMPORT_PROCESSES", "0")) or None
# New import files per employer and window (seconds); the next one is answered 429 with Retry-After (SEC-46).
# Uploading a file already checked again shows its result and does not count.
GJJ_IMPORT_RATE_LIMIT = int(env("GJJ_IMPORT_RATE_LIMIT", "10"))
GJJ_IMPORT_RATE_WINDOW = int(env("GJJ_IMPORT_RATE_WINDOW", "3600"))
# Seconds the task worker may spend reading and checking one file; past it the import ends as 文件无法读取
# with the reason, and nothing of it is entered in the 清册 (SEC-46).
GJJ_IMPORT_TIME_LIMIT = int(env("GJJ_IMPORT_TIME_LIMIT", "300"))
# Days an uploaded import file and its checked rows are kept; `manage.py purge_import_files` (daily) removes
# older ones, keeping the import's record and its errors (SEC-41).
GJJ_IMPORT_KEEP_DAYS = int(env("GJJ_IMPORT_KEEP_DAYS", "7"))
# 托收: the day of the month `manage.py collection_run` (run daily) makes the debit file for the bank (1–28).
GJJ_DEBIT_DAY = min(max(int(env("GJJ_DEBIT_DAY", "21")), 1), 28)
# 年度结息: employers settled at the same time on PostgreSQL, each on its own connection (1: one after the other).
GJJ_INTEREST_WORKERS = max(int(env("GJJ_INTEREST_WORKERS", "2")), 1)
# Proxies whose X-Forwarded-For we trust (SEC-39); empty means REMOTE_ADDR only.
GJJ_TRUSTED_PROXIES = env_list("GJJ_TRUSTED_PROXIES")
# Public 验真 look-ups per client IP and window (seconds), counted in the default cache (SEC-46).
GJJ_VERIFY_RATE_LIMIT = int(env("GJJ_VERIFY_RATE_LIMIT", "30"))
GJJ_VERIFY_RATE_WINDOW = int(env("GJJ_VERIFY_RATE_WINDOW", "600"))
# PDFs and exports a unit may generate per window (seconds), counted in the default cache (SEC-46).
GJJ_DOCUMENT_RATE_LIMIT = int(env("GJJ_DOCUMENT_RATE_LIMIT", "60"))
GJJ_DOCUMENT_RATE_WINDOW = int(env("GJJ_DOCUMENT_RATE_WINDOW", "3600"))
# The default cache holds those counters, so it must be shared by every server process: a table in
# the database in production (`manage.py createcachetable` creates it); memory in development and tests.
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"} if DEBUG or TESTING
        else {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": env("GJJ_CACHE_TABLE", "gjj_cache")}
    ),
    # Each process's own memory, for what every page shows and hardly ever changes (the center's name and phone in
    # the header: employers.context_processors), kept for a minute; never for counters or anything shared. The tests
    # keep nothing there (each request's queries stay countable); tests/employers/test_center_shown.py turns it on.
    "local": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"} if TESTING
    else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "gjj-local", "TIMEOUT": 60},
}

# One-time codes by SMS (seed 000): the backend is pluggable, like Django's email backends.
GJJ_SMS_BACKEND = env(
    "GJJ_SMS_BACKEND",
    "employers.sms.ConsoleBackend" if DEBUG else "employers.sms.FileBackend",
)
GJJ_SMS_FILE_PATH = Path(env("GJJ_SMS_FILE_PATH", str(BASE_DIR / "var" / "sms")))

GJJ_ADMIN_PATH = env("GJJ_ADMIN_PATH", "admin/")
AUDIT_RETENTION_DAYS = int(env("GJJ_AUDIT_RETENTION_DAYS", "180"))

# Security headers (SEC-01). Behind TLS in production; DEBUG serves plain http for the demo.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_HSTS_SECONDS = 31536000
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
}
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("GJJ_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    # Tests over plain http set GJJ_SECURE_COOKIES=0; a deployment never does.
    if env_bool("GJJ_SECURE_COOKIES", True):
        SESSION_COOKIE_SECURE = True
        CSRF_COOKIE_SECURE = True
        SESSION_COOKIE_NAME = "__Host-sessionid"
        CSRF_COOKIE_NAME = "__Host-csrftoken"

# Request size bounds (SEC-46).
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
DATA_UPLOAD_MAX_NUMBER_FIELDS = 500
DATA_UPLOAD_MAX_NUMBER_FILES = 10  # = the 电子档案 limit per 【添加档案】; gjj_portal.uploads explains an 11th in Chinese
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "gjj_portal.logging.RequestIdFilter"},
        "redact": {"()": "gjj_portal.logging.RedactFilter"},
    },
    "formatters": {"json": {"()": "gjj_portal.logging.JsonFormatter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "filters": ["request_id", "redact"],
        }
    },
    "root": {"handlers": ["console"], "level": env("GJJ_LOG_LEVEL", "INFO")},
    "loggers": {
        # The request id is stamped at the logger, so every handler (and the tests' caplog) sees it.
        "django.request": {"handlers": ["console"], "level": "ERROR", "propagate": False, "filters": ["request_id"]},
        "django.security": {"handlers": ["console"], "level": "WARNING", "propagate": False},
    },
}

# Off-host shipping (SEC-45): GJJ_SYSLOG_ADDRESS=host:port sends the same JSON lines to a collector.
GJJ_SYSLOG_ADDRESS = env("GJJ_SYSLOG_ADDRESS")
if GJJ_SYSLOG_ADDRESS:
    _host, _, _port = GJJ_SYSLOG_ADDRESS.rpartition(":")
    LOGGING["handlers"]["syslog"] = {
        "class": "logging.handlers.SysLogHandler",
        "address": (_host, int(_port)),
        "formatter": "json",
        "filters": ["request_id", "redact"],
    }
    for _logger in (LOGGING["root"], *LOGGING["loggers"].values()):
        _logger["handlers"] = [*_logger["handlers"], "syslog"]

# Background tasks (django.tasks): the check of an imported file runs in the database task worker
# (`manage.py db_worker`, django-tasks-db) in production, so a 50,000-row file never holds a web
# worker; the page polls its progress. In development (DEBUG) tasks run at once, in the request.
TASKS = {"default": {"BACKEND": env(
    "GJJ_TASKS_BACKEND",
    "django.tasks.backends.immediate.ImmediateBackend" if DEBUG else "django_tasks_db.DatabaseBackend",
)}}
