"""电子档案 in a real browser (issue 12 item 8): the center's required items are on the application page in red
before anything is uploaded, and an uploaded image shows as a thumbnail served by the guarded archive view."""

import io

import pytest
from django.urls import reverse
from PIL import Image

from approvals.models import FlowSetting
from approvals.services import application_prepare
from employers.models import User
from gjj_portal.management.commands.demo import DEMO_PASSWORD, DEMO_TOTP_SECRET
from members.businesses.base_adjust import CODE as BASE_ADJUST
from tests.browser.helpers import agent_login

pytestmark = pytest.mark.django_db(transaction=True)

SCREENSHOT = "/tmp/h2_archives.png"


def scan_jpeg(path) -> str:
    buffer = io.BytesIO()
    image = Image.new("RGB", (400, 300), (245, 245, 240))
    image.paste((30, 90, 170), (40, 40, 360, 90))  # a header band, so the thumbnail is visibly the scan
    image.save(buffer, format="JPEG")
    path.write_bytes(buffer.getvalue())
    return str(path)


def test_required_archives_in_red_before_upload_and_a_thumbnail_after(page, demo, media, tmp_path):
    FlowSetting.objects.update_or_create(business_code=BASE_ADJUST, defaults={"archives_required": True, "archives_hint": "离职证明或调动证明"})
    agent = User.objects.get(username="100001:jbr01")
    # the draft 基数调整 application that 【添加档案】 on the 清册 page opens (the 清册 entry has its own browser test)
    application = application_prepare(business_code=BASE_ADJUST, employer=agent.employer, agent=agent, summary="基数调整")

    agent_login(page, agent, password=DEMO_PASSWORD, secret=DEMO_TOTP_SECRET)
    page.get_by_role("button", name="退出系统").wait_for()
    page.goto(reverse("flow:application-detail", args=[application.pk]))

    # before any upload: the required items, in red
    required = page.locator(".archive-required")
    required.wait_for()
    assert "离职证明或调动证明" in required.inner_text()
    assert required.evaluate("e => getComputedStyle(e).color") == "rgb(181, 18, 27)"
    assert page.locator(".archive-thumb").count() == 0

    # after the upload: a thumbnail that really loaded, scaled down by CSS, and the red line still there
    page.get_by_label("选择图片").set_input_files(scan_jpeg(tmp_path / "离职证明.jpg"))
    page.get_by_role("button", name="【添加档案】").click()
    page.get_by_role("link", name="离职证明.jpg").wait_for()
    thumb = page.locator("img.archive-thumb")
    thumb.wait_for()
    page.wait_for_function("() => { const i = document.querySelector('img.archive-thumb'); return i && i.complete && i.naturalWidth > 0; }")
    assert thumb.evaluate("i => i.naturalWidth") == 400
    box = thumb.bounding_box()
    assert box["width"] <= 160 and box["height"] <= 120 and box["width"] > 50
    assert page.locator(".archive-required").is_visible()
    page.locator("#archives").screenshot(path=SCREENSHOT)
