"""WSGI entry point (gunicorn gjj_portal.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gjj_portal.settings")
os.environ.setdefault("GJJ_WEB_PROCESS", "1")  # the web workers get the statement timeout (GJJ_WEB_STATEMENT_TIMEOUT_MS)
application = get_wsgi_application()
