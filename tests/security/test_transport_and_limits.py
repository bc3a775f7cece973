"""SEC-40 (no third-party content, no network in tests) and SEC-46 (request size bounds)."""

import re
import socket
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

TEMPLATES = Path(settings.BASE_DIR) / "templates"
EXTERNAL = re.compile(r"""(?:src|href|action)\s*=\s*["'](?:https?:)?//""", re.IGNORECASE)


def test_no_template_loads_or_links_anything_from_another_host():
    offenders = [f"{path.relative_to(TEMPLATES)}:{number}" for path in TEMPLATES.rglob("*.html")
                 for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1) if EXTERNAL.search(line)]
    assert offenders == []


def test_the_suite_cannot_reach_the_network():
    with pytest.raises(RuntimeError, match="may not reach the network"), socket.socket() as outside:
        outside.connect(("192.0.2.1", 443))  # TEST-NET-1: refused before any packet leaves


@pytest.mark.django_db
def test_a_post_with_2000_fields_is_answered_400(client):
    response = client.post(reverse("employers:login"), {f"f{i}": "x" for i in range(2000)})
    assert response.status_code == 400 and "提交的内容无法处理" in response.content.decode()


@pytest.mark.django_db
def test_a_body_over_the_limit_is_answered_400(client):
    body = "a=" + "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)
    response = client.post(reverse("employers:login"), body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400 and "提交的内容无法处理" in response.content.decode()
