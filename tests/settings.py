"""Test configuration: the product's one settings module, fed a test environment.

Tests run with DEBUG off (what a center runs), throwaway keys, and plain http.
"""

import os

os.environ.setdefault("GJJ_DEBUG", "0")
os.environ.setdefault("GJJ_TESTING", "1")
os.environ.setdefault("GJJ_SECRET_KEY", "tests-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz")
os.environ.setdefault("GJJ_MASTER_KEY", "dGVzdHMtbWFzdGVyLWtleS0wMTIzNDU2Nzg5YWJjZGVm")
os.environ.setdefault("GJJ_ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
os.environ.setdefault("GJJ_SSL_REDIRECT", "0")
os.environ.setdefault("GJJ_SECURE_COOKIES", "0")
os.environ.setdefault("GJJ_SMS_BACKEND", "employers.sms.LocmemBackend")
# Tasks run at once in tests; tests of the worker path switch to the database backend themselves.
os.environ.setdefault("GJJ_TASKS_BACKEND", "django.tasks.backends.immediate.ImmediateBackend")
# A test's data is in its own open transaction, which another thread's connection cannot see: 结息 one at a time.
os.environ.setdefault("GJJ_INTEREST_WORKERS", "1")

from gjj_portal.settings import *  # noqa: E402,F403

STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
MEDIA_ROOT = BASE_DIR / "var" / "test-media"  # noqa: F405
# live_server serves static files itself; whitenoise would only warn about the missing STATIC_ROOT.
MIDDLEWARE = [m for m in MIDDLEWARE if "whitenoise" not in m]  # noqa: F405
