"""电子档案 (seed 000 steps 3–4, SEC-27): bounded, checked by content, re-encoded without metadata, stored privately."""

import io
import re
import unicodedata
import uuid
import warnings
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import Sum
from PIL import Image, ImageOps, UnidentifiedImageError

from approvals.models import Application, Archive
from gjj_portal import audit
from gjj_portal.errors import BusinessError
from gjj_portal.tenancy import User

MAX_FILES_PER_REQUEST = 10
TOO_MANY_FILES = f"一次最多上传{MAX_FILES_PER_REQUEST}张图片，请分批上传。"
MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_REQUEST_BYTES = 30 * 1024 * 1024
MAX_PER_APPLICATION = 100
MAX_PER_EMPLOYER_BYTES = 2 * 1024 * 1024 * 1024  # the unit's quota (SEC-27)
MAX_PIXELS = 40_000_000
# Pillow's own guard: beyond this it warns (made an error below) and beyond twice this it refuses.
Image.MAX_IMAGE_PIXELS = MAX_PIXELS

JPEG, PNG = "image/jpeg", "image/png"
MAGIC = {JPEG: b"\xff\xd8\xff", PNG: b"\x89PNG\r\n\x1a\n"}
EXTENSIONS = {".jpg": JPEG, ".jpeg": JPEG, ".png": PNG}
FORMATS = {"JPEG": JPEG, "PNG": PNG}
SUFFIX = {JPEG: "jpg", PNG: "png"}


@dataclass(frozen=True)
class CleanImage:
    content: bytes
    content_type: str
    width: int
    height: int


def archive_dir() -> Path:
    """Outside the static files: MEDIA_ROOT/archives, served only through the authorised view."""
    return Path(settings.MEDIA_ROOT) / "archives"


def archive_path(archive: Archive) -> Path:
    return archive_dir() / archive.file_name


def display_name(name: str) -> str:
    """The original name kept as display metadata only: no directories, no control characters."""
    name = unicodedata.normalize("NFKC", (name or "").replace("\\", "/").rsplit("/", 1)[-1])
    name = re.sub(r"[\x00-\x1f\x7f<>:\"|?*]", "", name).strip(" .")
    return name[-100:] or "档案图片"


def _refuse(name: str, reason: str) -> BusinessError:
    return BusinessError(f"「{display_name(name)}」{reason}")


def image_clean(*, name: str, data: bytes) -> CleanImage:
    """Check one upload by its bytes and re-encode it: JPEG/PNG only, ≤ 5 MB, ≤ 40 M pixels, EXIF/GPS/text dropped."""
    if len(data) > MAX_FILE_BYTES:
        raise _refuse(name, "超过5MB，请压缩后重新上传。")
    declared = EXTENSIONS.get(Path(display_name(name)).suffix.lower())
    if declared is None:
        raise _refuse(name, "不是JPG或PNG图片，电子档案只接受JPG、PNG格式的图片。")
    if not data.startswith(MAGIC[declared]):
        raise _refuse(name, "的内容与扩展名不符，不是有效的图片文件。")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:
                if FORMATS.get(probe.format) != declared:
                    raise _refuse(name, "的内容与扩展名不符，不是有效的图片文件。")
                if probe.width * probe.height > MAX_PIXELS:
                    raise _refuse(name, "的像素过大（超过4000万像素），请缩小后重新上传。")
                probe.verify()
            with Image.open(io.BytesIO(data)) as image:
                image.load()
                upright = ImageOps.exif_transpose(image)
                mode = "RGB" if declared == JPEG or upright.mode not in ("RGBA", "LA", "P") else "RGBA"
                clean = upright.convert(mode)
                clean.info = {}
                out = io.BytesIO()
                if declared == JPEG:
                    clean.save(out, format="JPEG", quality=88, optimize=True)
                else:
                    clean.save(out, format="PNG", optimize=True)
    except BusinessError:
        raise
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise _refuse(name, "的像素过大（超过4000万像素），请缩小后重新上传。")
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise _refuse(name, "已损坏或不是有效的图片文件。")
    return CleanImage(content=out.getvalue(), content_type=declared, width=clean.width, height=clean.height)


def archive_add(*, application: Application, agent: User, files: list) -> list[Archive]:
    """【添加档案】: up to 10 images at a time, while the application is 待提交 or 已退回; all or nothing."""
    if not agent.is_agent or agent.employer_id != application.employer_id:
        raise BusinessError("仅本单位经办人可以添加电子档案。", code="forbidden")
    if not application.is_editable:
        raise BusinessError("该申请已提交审批，不能再添加电子档案。", code="conflict")
    if not files:
        raise BusinessError("请选择要上传的图片。")
    if len(files) > MAX_FILES_PER_REQUEST:
        raise BusinessError(TOO_MANY_FILES)
    if sum(f.size for f in files) > MAX_REQUEST_BYTES:
        raise BusinessError("本次上传的图片合计超过30MB，请分批上传。")
    if application.archives.count() + len(files) > MAX_PER_APPLICATION:
        raise BusinessError(f"每笔申请最多保存{MAX_PER_APPLICATION}张电子档案。")
    used = Archive.objects.filter(employer_id=application.employer_id).aggregate(total=Sum("size", default=0))["total"]
    if used + sum(f.size for f in files) > MAX_PER_EMPLOYER_BYTES:
        raise BusinessError("本单位的电子档案存储空间已满，请联系中心。")
    cleaned = []
    for upload in files:
        if upload.size > MAX_FILE_BYTES:
            raise _refuse(upload.name, "超过5MB，请压缩后重新上传。")
        cleaned.append((display_name(upload.name), image_clean(name=upload.name, data=upload.read())))
    folder = archive_dir()
    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    try:
        with transaction.atomic():
            archives = []
            for original, image in cleaned:
                file_name = f"{uuid.uuid4()}.{SUFFIX[image.content_type]}"
                path = folder / file_name
                path.write_bytes(image.content)
                written.append(path)
                archives.append(Archive.objects.create(
                    application=application, employer_id=application.employer_id, file_name=file_name, original_name=original,
                    content_type=image.content_type, size=len(image.content), width=image.width, height=image.height,
                    uploaded_by=agent,
                ))
            audit.record("approvals.archive.added", actor=agent, employer=application.employer, obj=application,
                         data={"count": len(archives), "archives": [a.pk for a in archives]})
    except Exception:
        for path in written:
            path.unlink(missing_ok=True)
        raise
    return archives


def archive_delete(*, archive: Archive, agent: User) -> None:
    """【编辑】 lets the agent remove a wrong image while the application is still editable."""
    application = archive.application
    if not agent.is_agent or agent.employer_id != archive.employer_id:
        raise BusinessError("仅本单位经办人可以删除电子档案。", code="forbidden")
    if not application.is_editable:
        raise BusinessError("该申请已提交审批，不能再删除电子档案。", code="conflict")
    path = archive_path(archive)
    with transaction.atomic():
        audit.record("approvals.archive.deleted", actor=agent, employer=application.employer, obj=application,
                     data={"archive": archive.pk, "name": archive.original_name})
        archive.delete()
        transaction.on_commit(lambda: path.unlink(missing_ok=True))
