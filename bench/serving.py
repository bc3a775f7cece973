"""What the benchmarks that serve a scratch database share (bench/soak.py, bench/scale.py): gunicorn with the
production settings and throwaway secrets on loopback, the workers' processes, the server log."""

import base64
import http.client
import json
import os
import secrets
import socket
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
PYTHON = str(ROOT / ".venv" / "bin" / "python")
GUNICORN = str(ROOT / ".venv" / "bin" / "gunicorn")
SOCKET_DIR = "/var/run/postgresql"
PG_ADMIN = f"postgres://postgres@/postgres?host={SOCKET_DIR}"


def server_env(workdir: Path, database: str, port: int, *, master_key: str | None = None, extra: dict[str, str] | None = None,
               settings_module: str = "bench_settings") -> dict[str, str]:
    """Production settings for the run: throwaway secrets, a self-signed certificate, loopback only.
    `master_key` keeps the field encryption of a database built by an earlier run readable (bench/scale.py)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GJJ_") and k != "DATABASE_URL"}
    # The production settings with one change: the collected static files go to the run's folder, not the checkout.
    (workdir / f"{settings_module}.py").write_text(
        f"from gjj_portal.settings import *  # noqa: F403\n\nSTATIC_ROOT = {str(workdir / 'static')!r}\n")
    env.update({
        "DJANGO_SETTINGS_MODULE": settings_module,
        "PYTHONPATH": os.pathsep.join([str(workdir), str(ROOT)]),
        "GJJ_SECRET_KEY": secrets.token_urlsafe(50),
        "GJJ_MASTER_KEY": master_key or base64.b64encode(secrets.token_bytes(32)).decode(),
        "DATABASE_URL": f"postgres://postgres@/{database}?host={SOCKET_DIR}",
        "GJJ_ALLOWED_HOSTS": "127.0.0.1",
        "GJJ_CSRF_TRUSTED_ORIGINS": f"http://127.0.0.1:{port}",
        "GJJ_SSL_REDIRECT": "0",
        "GJJ_SECURE_COOKIES": "0",  # plain http on loopback; a deployment never does this
        "GJJ_SIGNING_CERT": str(workdir / "center-cert.pem"),
        "GJJ_SIGNING_KEY": str(workdir / "center-key.pem"),
        "GJJ_MEDIA_ROOT": str(workdir / "media"),
        "GJJ_SMS_FILE_PATH": str(workdir / "sms"),
        "GJJ_LOG_LEVEL": "WARNING",
        "GJJ_IMPORT_PROCESSES": "1",
        # Benchmark clients import and print without pause: the per-unit hourly limits are for people.
        "GJJ_IMPORT_RATE_LIMIT": "100000",
        "GJJ_DOCUMENT_RATE_LIMIT": "100000",
        **(extra or {}),
    })
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry))
    return found


def peak_rss_kib(pid: int) -> int:
    """VmHWM of a process: the most resident memory it ever held (KiB)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def wait_up(port: int, seconds: float = 60) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/login/", headers={"Host": f"127.0.0.1:{port}"})
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.5)
    raise SystemExit("gunicorn did not answer on /login/")


def server_errors(log: Path) -> list[str]:
    """The tracebacks django.request logged: one line each (its last line)."""
    found = []
    for line in log.read_text(errors="replace").splitlines():
        if not line.startswith("{"):
            continue
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if record.get("logger") == "django.request" and record.get("level") == "ERROR":
            last = (record.get("exc") or "").strip().splitlines()[-1:] or [""]
            found.append(f"{record['ts']} {record['message']} — {last[0]}")
    return found


def percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, max(0, round(q * (len(values) - 1))))]


def center_create(*, first_year: int) -> None:
    """The benchmarks' center (the demo's 鄂尔多斯 center) and a policy for every year from `first_year` - 1 to next
    year: the same rows for the soak and for the city-scale database."""
    from datetime import date
    from decimal import Decimal

    from employers.models import Center, CenterPolicy

    Center.objects.create(
        name="鄂尔多斯市住房公积金中心", seal_text="鄂尔多斯市住房公积金中心 业务专用章", bank_name="中国建设银行鄂尔多斯分行营业部",
        bank_account="15001706000000001234", bank_account_name="鄂尔多斯市住房公积金中心", address="鄂尔多斯市康巴什区市民中心",
        phone="0477-12329",
    )
    for year in range(first_year - 1, date.today().year + 2):
        CenterPolicy.objects.create(year=year, base_floor=Decimal("1980.00"), base_cap=Decimal("32592.00"), rate_min=Decimal("0.0500"),
                                    rate_max=Decimal("0.1200"), equal_rates=True, rounding=CenterPolicy.Rounding.YUAN,
                                    document="鄂公中发〔2023〕16号")
