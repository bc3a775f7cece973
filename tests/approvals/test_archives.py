"""电子档案 (seed 000 steps 3–4, SEC-27): limits, bad files, metadata stripped, private serving."""

# ruff: noqa: F811 - the shared fixtures are imported from flow_fixtures and requested by name

import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from approvals.models import Application, Archive, FlowSetting
from approvals.services.archive import MAX_FILE_BYTES, archive_add, archive_path, image_clean
from approvals.services.flow import application_prepare
from gjj_portal.errors import BusinessError
from tests.approvals.flow_fixtures import CODE, business, image_bytes, submit  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def draft(business, agent):
    return application_prepare(business_code=CODE, employer=agent.employer, agent=agent, summary="基数调整")


def upload(name: str, data: bytes, content_type: str = "image/jpeg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)


def gps_jpeg() -> bytes:
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90° on display
    exif[0x8825] = {1: "N", 2: (40.0, 26.0, 46.0), 3: "E", 4: (116.0, 23.0, 29.0)}  # GPS IFD
    exif[0x010F] = "ExampleCam"
    return image_bytes("JPEG", size=(60, 20), exif=exif)


# ---- service: bad files --------------------------------------------------------------------

def test_jpeg_and_png_are_accepted_and_stored_by_uuid_outside_static(draft, agent, settings):
    archives = archive_add(application=draft, agent=agent, files=[upload("扫描件.jpg", image_bytes()),
                                                                  upload("b.png", image_bytes("PNG"), "image/png")])
    assert [a.content_type for a in archives] == ["image/jpeg", "image/png"]
    for archive in archives:
        assert re.fullmatch(r"[0-9a-f-]{36}\.(jpg|png)", archive.file_name)
        path = archive_path(archive)
        assert path.exists() and str(path).startswith(str(settings.MEDIA_ROOT))
        assert "static" not in path.parts
    assert archives[0].original_name == "扫描件.jpg"


def test_renamed_pdf_is_refused(draft, agent):
    with pytest.raises(BusinessError, match="内容与扩展名不符"):
        archive_add(application=draft, agent=agent, files=[upload("合同.jpg", b"%PDF-1.7\n1 0 obj<<>>endobj\n%%EOF")])
    assert not Archive.objects.exists()


def test_png_renamed_to_jpg_is_refused(draft, agent):
    with pytest.raises(BusinessError, match="内容与扩展名不符"):
        archive_add(application=draft, agent=agent, files=[upload("a.jpg", image_bytes("PNG"))])


@pytest.mark.parametrize("name,data", [
    ("shell.php", b"<?php system($_GET['c']); ?>"),
    ("a.svg", b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>"),
    ("a.gif", b"GIF89a<html><script>alert(1)</script>"),
    ("doc.pdf", b"%PDF-1.4"),
])
def test_other_types_are_refused(draft, agent, name, data):
    with pytest.raises(BusinessError):
        archive_add(application=draft, agent=agent, files=[upload(name, data)])


def test_truncated_jpeg_is_refused():
    data = image_bytes()[:60]
    with pytest.raises(BusinessError, match="损坏|不是有效"):
        image_clean(name="a.jpg", data=data)


def test_oversized_file_is_refused(draft, agent):
    big = image_bytes() + b"\0" * MAX_FILE_BYTES
    with pytest.raises(BusinessError, match="超过5MB"):
        archive_add(application=draft, agent=agent, files=[upload("big.jpg", big)])


def test_decompression_bomb_is_refused_without_decoding():
    buffer = io.BytesIO()
    Image.new("1", (20000, 20000)).save(buffer, format="PNG")  # 400 M pixels, small on disk
    with pytest.raises(BusinessError, match="像素过大"):
        image_clean(name="bomb.png", data=buffer.getvalue())


def test_eleven_files_at_once_are_refused(draft, agent):
    files = [upload(f"{i}.jpg", image_bytes()) for i in range(11)]
    with pytest.raises(BusinessError, match="一次最多上传10张"):
        archive_add(application=draft, agent=agent, files=files)
    assert not Archive.objects.exists()


def test_one_bad_file_stores_none_of_the_request(draft, agent, settings):
    with pytest.raises(BusinessError):
        archive_add(application=draft, agent=agent, files=[upload("ok.jpg", image_bytes()), upload("bad.jpg", b"%PDF-1.7")])
    assert not Archive.objects.exists()
    folder = settings.MEDIA_ROOT / "archives"
    assert not folder.exists() or not any(folder.iterdir())


def test_exif_and_gps_are_stripped_and_orientation_applied(draft, agent):
    (archive,) = archive_add(application=draft, agent=agent, files=[upload("gps.jpg", gps_jpeg())])
    with Image.open(archive_path(archive)) as stored:
        assert not stored.getexif()
        assert stored.size == (20, 60)  # rotated upright
        assert "exif" not in stored.info


def test_path_in_upload_name_stays_inside_media(draft, agent, settings):
    (archive,) = archive_add(application=draft, agent=agent, files=[upload("../../x.jpg", image_bytes())])
    assert archive.original_name == "x.jpg"
    assert archive_path(archive).resolve().is_relative_to(settings.MEDIA_ROOT.resolve())


def test_archives_cannot_be_added_after_submission(business, agent):
    application = submit(agent)
    with pytest.raises(BusinessError, match="已提交审批"):
        archive_add(application=application, agent=agent, files=[upload("a.jpg", image_bytes())])


def test_returned_application_accepts_more_archives(business, agent):
    application = submit(agent)
    Application.objects.filter(pk=application.pk).update(status=Application.Status.RETURNED)
    application.refresh_from_db()
    assert len(archive_add(application=application, agent=agent, files=[upload("a.jpg", image_bytes())])) == 1


def test_outsider_cannot_add_archives(draft, outsider):
    with pytest.raises(BusinessError):
        archive_add(application=draft, agent=outsider, files=[upload("a.jpg", image_bytes())])


# ---- views: upload and serving ---------------------------------------------------------------

def test_upload_view_adds_images_and_shows_edit(draft, agent_client):
    url = reverse("flow:archive-upload", args=[draft.pk])
    response = agent_client.post(url, {"files": [upload("a.jpg", image_bytes()), upload("b.jpg", image_bytes())]})
    assert response.status_code == 302
    assert draft.archives.count() == 2
    page = agent_client.get(reverse("flow:application-detail", args=[draft.pk])).content.decode()
    assert "【编辑】" in page and "a.jpg" in page


def test_upload_view_htmx_returns_fragment_with_event(draft, agent_client):
    url = reverse("flow:archive-upload", args=[draft.pk])
    response = agent_client.post(url, {"files": [upload("a.jpg", image_bytes())]}, headers={"HX-Request": "true"})
    assert response.status_code == 200 and b"<html" not in response.content
    assert "archives-changed" in response["HX-Trigger"]


def test_upload_view_shows_chinese_error_for_bad_file(draft, agent_client):
    url = reverse("flow:archive-upload", args=[draft.pk])
    response = agent_client.post(url, {"files": [upload("合同.jpg", b"%PDF-1.7")]})
    assert response.status_code == 200
    assert "内容与扩展名不符" in response.content.decode()


HTMX = {"HX-Request": "true"}
LONG_NAME = "a" * 1000 + ".jpg"


def long_named() -> io.BytesIO:
    """A file as a browser sends it: the whole name (SimpleUploadedFile would cut it to 255 characters)."""
    data = io.BytesIO(image_bytes())
    data.name = LONG_NAME
    return data


@pytest.mark.parametrize("count", [11, 25])
def test_too_many_files_in_one_request_get_the_chinese_form_error_not_a_400(draft, agent_client, count):
    """Django refuses the 11th file before the view runs (DATA_UPLOAD_MAX_NUMBER_FILES = 10); the page explains it."""
    url = reverse("flow:archive-upload", args=[draft.pk])
    response = agent_client.post(url, {"files": [upload(f"{i}.jpg", image_bytes()) for i in range(count)]}, headers=HTMX)
    body = response.content.decode()
    assert response.status_code == 200 and "<html" not in body
    assert "一次最多上传10张图片" in body and 'id="application-body"' in body
    assert not Archive.objects.exists()


def test_the_site_wide_file_count_limit_stays_ten(settings):
    assert settings.DATA_UPLOAD_MAX_NUMBER_FILES == 10


def test_a_1000_character_file_name_gets_the_chinese_form_error_not_a_400(draft, agent_client):
    """A part header over 1 KiB is refused by Django's parser (MultiPartParserError → 400); the page explains it."""
    url = reverse("flow:archive-upload", args=[draft.pk])
    response = agent_client.post(url, {"files": [long_named()]}, headers=HTMX)
    body = response.content.decode()
    assert response.status_code == 200 and "<html" not in body
    assert "文件名过长" in body
    assert not Archive.objects.exists()


def test_a_plain_form_refused_by_the_parser_goes_back_with_the_reason(draft, agent_client):
    """Without htmx the CSRF token was in the refused body: nothing is done, the agent is sent back with the reason."""
    page = reverse("flow:application-detail", args=[draft.pk])
    url = reverse("flow:archive-upload", args=[draft.pk])
    files = {"files": [upload(f"{i}.jpg", image_bytes()) for i in range(11)]}
    response = agent_client.post(url, files, headers={"Referer": f"http://testserver{page}"})
    assert response.status_code == 303 and response["Location"] == f"http://testserver{page}"
    assert "一次最多上传10张图片" in agent_client.get(page).content.decode()
    bare = agent_client.post(url, {"files": [long_named()]})
    assert bare.status_code == 400 and "文件名过长" in bare.content.decode()
    assert not Archive.objects.exists()


def test_a_refused_upload_still_needs_the_csrf_token(draft, agent):
    from django.test import Client

    from tests import factories

    client = Client(enforce_csrf_checks=True)
    factories.login_as(client, agent)
    url = reverse("flow:archive-upload", args=[draft.pk])
    response = client.post(url, {"files": [upload(f"{i}.jpg", image_bytes()) for i in range(11)]}, headers=HTMX)
    assert response.status_code == 403
    assert not Archive.objects.exists()


def test_a_300_character_file_name_is_stored_shortened(draft, agent_client):
    url = reverse("flow:archive-upload", args=[draft.pk])
    response = agent_client.post(url, {"files": [upload("a" * 300 + ".jpg", image_bytes())]})
    assert response.status_code == 302
    assert len(Archive.objects.get().original_name) <= 100


# ---- the archive block: required items in red, thumbnails --------------------------------------

def test_required_archive_items_show_in_red_before_any_upload(draft, agent_client):
    """The center's 须提供的档案 (seed 000 §4, 红字标注) are on the page before the first upload."""
    FlowSetting.objects.create(business_code=CODE, archives_required=True, archives_hint="离职证明或调动证明")
    body = agent_client.get(reverse("flow:application-detail", args=[draft.pk])).content.decode()
    assert re.search(r'<p class="archive-required"[^>]*>须上传的电子档案：<strong>离职证明或调动证明</strong></p>', body)


def test_required_archives_without_a_hint_still_show_in_red(draft, agent_client):
    FlowSetting.objects.create(business_code=CODE, archives_required=True)
    body = agent_client.get(reverse("flow:application-detail", args=[draft.pk])).content.decode()
    assert 'class="archive-required"' in body and "相关证明材料" in body


def test_no_red_line_when_the_center_requires_no_archives(draft, agent_client):
    FlowSetting.objects.create(business_code=CODE, archives_required=False, archives_hint="离职证明")
    body = agent_client.get(reverse("flow:application-detail", args=[draft.pk])).content.decode()
    assert "archive-required" not in body


def test_the_red_line_stays_after_an_htmx_upload_error(draft, agent_client):
    FlowSetting.objects.create(business_code=CODE, archives_required=True, archives_hint="离职证明或调动证明")
    url = reverse("flow:archive-upload", args=[draft.pk])
    body = agent_client.post(url, {"files": [upload("合同.jpg", b"%PDF-1.7")]}, headers=HTMX).content.decode()
    assert 'class="archive-required"' in body and "离职证明或调动证明" in body


def test_uploaded_images_show_as_thumbnails_served_by_the_guarded_view(draft, agent, agent_client, outsider_client):
    (archive,) = archive_add(application=draft, agent=agent, files=[upload("a.jpg", image_bytes())])
    body = agent_client.get(reverse("flow:application-detail", args=[draft.pk])).content.decode()
    src = reverse("flow:archive-file", args=[archive.pk])
    assert re.search(rf'<img class="archive-thumb" src="{re.escape(src)}"', body)
    assert agent_client.get(src).status_code == 200
    assert outsider_client.get(src).status_code == 404


def test_archive_is_served_with_nosniff_and_sandbox(draft, agent, agent_client):
    (archive,) = archive_add(application=draft, agent=agent, files=[upload("a.jpg", image_bytes())])
    response = agent_client.get(reverse("flow:archive-file", args=[archive.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "sandbox"
    assert b"".join(response.streaming_content).startswith(b"\xff\xd8\xff")


def test_reviewer_can_view_archive(draft, agent, reviewer_client):
    (archive,) = archive_add(application=draft, agent=agent, files=[upload("a.jpg", image_bytes())])
    assert reviewer_client.get(reverse("flow:archive-file", args=[archive.pk])).status_code == 200


def test_outsider_gets_404_for_archive(draft, agent, outsider_client):
    (archive,) = archive_add(application=draft, agent=agent, files=[upload("a.jpg", image_bytes())])
    assert outsider_client.get(reverse("flow:archive-file", args=[archive.pk])).status_code == 404


def test_outsider_cannot_upload_to_another_employers_application(draft, outsider_client):
    response = outsider_client.post(reverse("flow:archive-upload", args=[draft.pk]), {"files": [upload("a.jpg", image_bytes())]})
    assert response.status_code == 404
    assert not Archive.objects.exists()


def test_edit_removes_an_archive_before_submission(draft, agent, agent_client, django_capture_on_commit_callbacks):
    (archive,) = archive_add(application=draft, agent=agent, files=[upload("a.jpg", image_bytes())])
    path = archive_path(archive)
    with django_capture_on_commit_callbacks(execute=True):
        response = agent_client.post(reverse("flow:archive-delete", args=[draft.pk, archive.pk]))
    assert response.status_code == 302
    assert not Archive.objects.exists() and not path.exists()


def test_employer_quota_is_enforced(draft, agent, monkeypatch):
    from approvals.services import archive as archive_module

    archive_add(application=draft, agent=agent, files=[upload("a.jpg", image_bytes())])
    monkeypatch.setattr(archive_module, "MAX_PER_EMPLOYER_BYTES", Archive.objects.get().size + 10)
    with pytest.raises(BusinessError, match="存储空间已满"):
        archive_add(application=draft, agent=agent, files=[upload("b.jpg", image_bytes())])


def test_no_temporary_upload_files_are_left_behind(draft, agent_client, settings, tmp_path):
    temp = tmp_path / "upload-tmp"
    temp.mkdir()
    settings.FILE_UPLOAD_TEMP_DIR = str(temp)
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 0  # every upload goes through a temporary file
    url = reverse("flow:archive-upload", args=[draft.pk])
    agent_client.post(url, {"files": [upload("a.jpg", image_bytes()), upload("bad.jpg", b"%PDF-1.7")]})
    agent_client.post(url, {"files": [upload("b.jpg", image_bytes())]})
    assert list(temp.iterdir()) == []
    assert draft.archives.count() == 1
