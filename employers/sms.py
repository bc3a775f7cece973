"""Pluggable SMS backends for one-time login codes, in the manner of Django's email backends."""

import logging
from abc import ABC, abstractmethod
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.utils.module_loading import import_string

logger = logging.getLogger("employers.sms")


class BaseBackend(ABC):
    @abstractmethod
    def send(self, *, phone: str, text: str) -> None:
        """Deliver one text message."""


class ConsoleBackend(BaseBackend):
    """Development: prints the message to the console (the phone number masked)."""

    def send(self, *, phone: str, text: str) -> None:
        print(f"[短信] 发往 {phone[:3]}****{phone[-4:]}：{text}", flush=True)


class FileBackend(BaseBackend):
    """Writes each message to a file in GJJ_SMS_FILE_PATH (tests, staging)."""

    def send(self, *, phone: str, text: str) -> None:
        folder = Path(settings.GJJ_SMS_FILE_PATH)
        folder.mkdir(parents=True, exist_ok=True)
        name = datetime.now().strftime("%Y%m%d-%H%M%S-%f") + ".txt"
        (folder / name).write_text(f"{phone}\n{text}\n", encoding="utf-8")


class LocmemBackend(BaseBackend):
    """Tests: keeps messages in memory in `outbox`."""

    outbox: list[dict] = []

    def send(self, *, phone: str, text: str) -> None:
        LocmemBackend.outbox.append({"phone": phone, "text": text})


def get_backend() -> BaseBackend:
    return import_string(settings.GJJ_SMS_BACKEND)()
