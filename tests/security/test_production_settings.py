"""Production settings: deploy checks, strict headers and cookies, secrets only from the environment
(SEC-01, SEC-02, SEC-10 hashing). Production is imported in a subprocess with a clean environment."""

import base64
import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

REPO = Path(settings.BASE_DIR)
PRINT_SETTINGS = """
import json, django
django.setup()
from django.conf import settings as s
print(json.dumps({name: getattr(s, name, None) for name in (
    "DEBUG", "SESSION_COOKIE_NAME", "SESSION_COOKIE_SECURE", "SESSION_COOKIE_HTTPONLY", "SESSION_COOKIE_SAMESITE",
    "CSRF_COOKIE_NAME", "CSRF_COOKIE_SECURE", "CSRF_COOKIE_SAMESITE", "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS", "SECURE_SSL_REDIRECT", "X_FRAME_OPTIONS", "PASSWORD_HASHERS",
    "SECURE_CONTENT_TYPE_NOSNIFF", "SECURE_REFERRER_POLICY", "CACHES", "TASKS")}, default=str))
"""


def production_env(tmp_path, **overrides) -> dict[str, str]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),
        "DJANGO_SETTINGS_MODULE": "gjj_portal.settings",
        "GJJ_SECRET_KEY": secrets.token_urlsafe(64),
        "GJJ_MASTER_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
        "GJJ_ALLOWED_HOSTS": "gjj.example.cn",
        "GJJ_CSRF_TRUSTED_ORIGINS": "https://gjj.example.cn",
        "GJJ_SQLITE_PATH": str(tmp_path / "prod.sqlite3"),
    }
    env.update(overrides)
    return {k: v for k, v in env.items() if v is not None}


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def production(tmp_path_factory) -> dict:
    result = run(["-c", PRINT_SETTINGS], production_env(tmp_path_factory.mktemp("prod")))
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_production_settings_pass_the_deploy_checks(tmp_path):
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], production_env(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr


def test_production_is_not_debug_and_redirects_to_https(production):
    assert production["DEBUG"] is False
    assert production["SECURE_SSL_REDIRECT"] is True


def test_production_sends_hsts_for_a_year_with_subdomains(production):
    assert production["SECURE_HSTS_SECONDS"] >= 31536000
    assert production["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True


def test_production_cookies_are_host_prefixed_secure_httponly_lax(production):
    assert production["SESSION_COOKIE_NAME"].startswith("__Host-")
    assert production["CSRF_COOKIE_NAME"].startswith("__Host-")
    assert production["SESSION_COOKIE_SECURE"] is True and production["CSRF_COOKIE_SECURE"] is True
    assert production["SESSION_COOKIE_HTTPONLY"] is True
    assert production["SESSION_COOKIE_SAMESITE"] == "Lax" and production["CSRF_COOKIE_SAMESITE"] == "Lax"


def test_production_frame_nosniff_and_referrer_settings(production):
    assert production["X_FRAME_OPTIONS"] == "DENY"
    assert production["SECURE_CONTENT_TYPE_NOSNIFF"] is True
    assert production["SECURE_REFERRER_POLICY"] == "same-origin"


def test_production_hashes_passwords_with_pbkdf2_sha256(production):
    """SEC-10: 生产环境以 PBKDF2-SHA256 保存密码（测试环境为提速使用 MD5）。"""
    assert production["PASSWORD_HASHERS"][0] == "django.contrib.auth.hashers.PBKDF2PasswordHasher"


def test_production_refuses_to_start_with_an_empty_environment(tmp_path):
    env = {"PATH": os.environ.get("PATH", ""), "DJANGO_SETTINGS_MODULE": "gjj_portal.settings"}
    result = run(["-c", "import django; django.setup()"], env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and "GJJ_SECRET_KEY" in result.stderr


@pytest.mark.parametrize("missing", ["GJJ_SECRET_KEY", "GJJ_MASTER_KEY"])
def test_production_refuses_to_start_without_each_secret(tmp_path, missing):
    result = run(["-c", "import django; django.setup()"], production_env(tmp_path, **{missing: None}))
    assert result.returncode != 0 and "ImproperlyConfigured" in result.stderr and missing in result.stderr


def test_production_shares_the_cache_between_processes_and_checks_imports_in_the_worker(production):
    # the 验真 rate limit counts in the default cache: per-process memory would multiply the limit
    assert production["CACHES"]["default"]["BACKEND"] == "django.core.cache.backends.db.DatabaseCache"
    # a 50,000-row import is checked by `manage.py db_worker`, not in a web worker
    assert production["TASKS"]["default"]["BACKEND"] == "django_tasks_db.DatabaseBackend"


def test_production_refuses_a_django_insecure_key(tmp_path):
    key = "django-insecure-" + secrets.token_urlsafe(40)
    result = run(["-c", "import django; django.setup()"], production_env(tmp_path, GJJ_SECRET_KEY=key))
    assert result.returncode != 0 and "ImproperlyConfigured" in result.stderr


def test_production_refuses_the_development_keys(tmp_path):
    from gjj_portal import settings as product_settings

    for name, value in (("GJJ_SECRET_KEY", product_settings._DEV_SECRET_KEY), ("GJJ_MASTER_KEY", product_settings._DEV_MASTER_KEY)):
        result = run(["-c", "import django; django.setup()"], production_env(tmp_path, **{name: value}))
        assert result.returncode != 0 and "ImproperlyConfigured" in result.stderr, name


def test_secrets_can_come_from_files(tmp_path):
    key_file = tmp_path / "secret_key"
    key_file.write_text(secrets.token_urlsafe(64))
    env = production_env(tmp_path, GJJ_SECRET_KEY=None, GJJ_SECRET_KEY_FILE=str(key_file))
    result = run(["-c", "import django; django.setup(); from django.conf import settings; print(len(settings.SECRET_KEY))"], env)
    assert result.returncode == 0 and result.stdout.strip() == str(len(key_file.read_text()))


# Development-only defaults, used only while GJJ_DEBUG is on and refused in production (tested above).
DEV_ONLY_LITERALS = {
    "dev-only-secret-key-not-for-production-use-0000",
    "ZGV2LW9ubHktbWFzdGVyLWtleS1ub3QtZm9yLXByb2Q=",
}
KEY_LIKE = re.compile(r"""["']([A-Za-z0-9+/_\-]{32,}={0,2})["']""")


def test_no_django_insecure_key_in_the_project_package():
    found = []
    for path in (REPO / "gjj_portal").rglob("*.py"):
        found += re.findall(r"django-insecure-[^\s\"']{8,}", path.read_text(encoding="utf-8"))
    assert found == []


def test_settings_hold_no_key_literal_beyond_the_dev_only_defaults():
    literals = set(KEY_LIKE.findall((REPO / "gjj_portal" / "settings.py").read_text(encoding="utf-8")))
    assert literals - DEV_ONLY_LITERALS == set()


def test_logs_can_be_shipped_to_a_syslog_collector(tmp_path):
    probe = ("import logging, django; django.setup(); "
             "print(sorted(type(h).__name__ for h in logging.getLogger().handlers)); "
             "print(sorted(type(h).__name__ for h in logging.getLogger('django.request').handlers))")
    result = run(["-c", probe], production_env(tmp_path, GJJ_SYSLOG_ADDRESS="127.0.0.1:5514"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[:2] == ["['StreamHandler', 'SysLogHandler']"] * 2


DATABASE_OPTIONS = """
import json, django
django.setup()
from django.conf import settings as s
print(json.dumps(s.DATABASES["default"]["OPTIONS"]))
"""


def test_production_reaches_postgresql_over_the_network_only_with_verify_full(tmp_path):
    """SEC-40: sslmode defaults to verify-full, and a weaker mode stops the start with the reason."""
    result = run(["-c", DATABASE_OPTIONS], production_env(tmp_path, DATABASE_URL="postgres://gjj:pw@db.example.cn:5432/gjj"))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1])["sslmode"] == "verify-full"
    weak = run(["-c", DATABASE_OPTIONS], production_env(tmp_path, DATABASE_URL="postgres://gjj:pw@db.example.cn/gjj?sslmode=require"))
    assert weak.returncode != 0 and "sslmode=verify-full" in weak.stderr
    socket = run(["-c", DATABASE_OPTIONS], production_env(tmp_path, DATABASE_URL="postgres:///gjj"))
    assert socket.returncode == 0, socket.stderr  # a local socket carries no network traffic to encrypt


MASTER_KEYS = """
import json, django
django.setup()
from django.conf import settings as s
print(json.dumps({"active": s.GJJ_ACTIVE_KEY_ID, "keys": s.GJJ_MASTER_KEYS}))
"""


def test_rotation_keeps_the_new_key_active_and_the_old_one_readable(tmp_path):
    """SEC-37 rotation: GJJ_MASTER_KEY belongs to GJJ_ACTIVE_KEY_ID; an old key keeps its own id."""
    new, old = base64.b64encode(secrets.token_bytes(32)).decode(), base64.b64encode(secrets.token_bytes(32)).decode()
    env = production_env(tmp_path, GJJ_MASTER_KEY=new, GJJ_ACTIVE_KEY_ID="k2", GJJ_OLD_MASTER_KEYS=f"k1={old}")
    result = run(["-c", MASTER_KEYS], env)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == {"active": "k2", "keys": {"k2": new, "k1": old}}
    clash = run(["-c", MASTER_KEYS], production_env(tmp_path, GJJ_MASTER_KEY=new, GJJ_OLD_MASTER_KEYS=f"k1={old}"))
    assert clash.returncode != 0 and "GJJ_ACTIVE_KEY_ID" in clash.stderr
