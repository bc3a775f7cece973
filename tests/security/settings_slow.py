"""The test settings served by gunicorn with a slow page (tests/security/test_slow_page_under_load.py)."""

from tests.settings import *  # noqa: F403

ROOT_URLCONF = "tests.security.urls_slow"
