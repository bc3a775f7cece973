"""Mixed-load soak on PostgreSQL (issue 15 item 8): gunicorn with 4 workers on 127.0.0.1, 16 agents of 16
employers running the monthly cycle over HTTP, 2 reviewers approving, returning and recording 缴款, one client
replaying double clicks and stale forms; one web worker SIGKILLed twice and PostgreSQL restarted once. Then the
books are checked with the project's own code. Figures go to docs/performance.md.

    .venv/bin/python bench/soak.py                        # 10 minutes, 16 agents
    .venv/bin/python bench/soak.py --minutes 1 --agents 4 --members 50   # a short try

The script works in its own scratch database (default `gjj_soak`, dropped and created again; a name that does
not end in `_soak` is refused) over the local socket, serves it with production settings (GJJ_DEBUG off, throwaway
secrets and a self-signed signing certificate in a temporary folder, no TLS on loopback) and runs
`manage.py db_worker` beside gunicorn for the imports. `--no-chaos` leaves out the kills and the restart.
The PostgreSQL restart (`pg_ctlcluster … main restart`, about two seconds) touches the machine's shared cluster:
other databases on it see their connections dropped once.
"""

import argparse
import html.parser
import http.client
import io
import json
import os
import queue
import random
import re
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict, deque
from datetime import date, timedelta
from decimal import Decimal
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode, urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.serving import (  # noqa: E402
    GUNICORN,
    PG_ADMIN,
    PYTHON,
    center_create,
    children,
    free_port,
    percentile,
    server_env,
    server_errors,
    wait_up,
)

FIRST_PERIOD = date(2019, 1, 1)  # the members' 起缴年月: eight years of months to assess
CN_DIGITS = str.maketrans("0123456789", "〇一二三四五六七八九")
WORKER_KILL_GRACE = 5.0  # seconds after a SIGKILL in which a dropped connection is the kill's
RESTART_GRACE = 10.0  # seconds after PostgreSQL is back in which a failure is still the restart's


# ---------------------------------------------------------------- environment and database


def fresh_database(name: str) -> None:
    import psycopg

    if not name.endswith("_soak"):
        sys.exit(f"refused: the soak drops and recreates its database; {name!r} does not end in _soak")
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def id_number(n: int) -> str:
    from stdnum.cn import ric

    body = f"150602{date(1970, 1, 1) + timedelta(days=n // 1000):%Y%m%d}{n % 1000:03d}"
    return body + ric.calc_check_digit(body + "0")


def cn_name(prefix: str, n: int) -> str:
    return prefix + str(n).translate(CN_DIGITS)


def build(*, agents: int, members: int, password: str, totp: str) -> list[dict]:
    """The center, its policy, the employers with one agent and `members` members each, two reviewers and the
    replaying client's reviewer. Returns what each agent needs to know."""
    from django.db import transaction
    from django.utils import timezone

    from employers.models import Employer, User
    from gjj_portal.management.commands.demo import uscc_with_check
    from members.models import Member
    from members.services import member_open

    def user(username, name, role, *, employer=None, login_name=""):
        account = User(username=username, login_name=login_name or username, display_name=name, role=role, employer=employer,
                       password_expires=False, must_change_password=False, password_changed_at=timezone.now(),
                       totp_confirmed_at=timezone.now())
        account.set_password(password)
        account.totp_secret = totp
        account.save()
        return account

    center_create(first_year=FIRST_PERIOD.year)
    for n in (1, 2):
        user(f"soak-reviewer{n}", cn_name("审核员", n), User.Role.REVIEWER)
    specs = []
    for i in range(agents):
        account_no = f"{800001 + i}"
        with transaction.atomic():
            employer = Employer.objects.create(
                account_no=account_no, name=cn_name("鄂尔多斯市压力测试有限公司", i + 1), uscc=uscc_with_check(f"91150602MA0R{i:05d}"),
                address="鄂尔多斯市东胜区天骄北路1号", legal_rep="刘建国", contact_name="王海燕", contact_phone="0477-8888001",
                bank_name="中国工商银行鄂尔多斯分行", bank_account=f"6222{account_no}0000001", opened_on=date(2015, 3, 1),
                employer_rate=Decimal("0.1200"), member_rate=Decimal("0.1200"),
            )
            agent = user(User.agent_username(account_no, "soak"), "王海燕", User.Role.AGENT, employer=employer, login_name="soak")
            numbers = []
            for k in range(members):
                n = i * 100_000 + k
                number = id_number(n)
                member = member_open(
                    employer=employer, agent=agent, name=cn_name("职工", n), id_number=number, gender=Member.Gender.MALE
                    if int(number[16]) % 2 else Member.Gender.FEMALE, birth_date=date.fromisoformat(
                        f"{number[6:10]}-{number[10:12]}-{number[12:14]}"), base=Decimal(2500 + (n * 37) % 20000) + Decimal("0.00"),
                    employer_rate=employer.employer_rate, member_rate=employer.member_rate, start_period=FIRST_PERIOD,
                    phone=f"139{n % 100_000_000:08d}", opened_on=FIRST_PERIOD - timedelta(days=10),
                )
                numbers.append(member.account_no)
        specs.append({"index": i, "account_no": account_no, "members": numbers, "next_id": i * 100_000 + members})
    return specs


# ---------------------------------------------------------------- HTTP client


class Response:
    def __init__(self, status: int, headers: dict[str, str], body: bytes):
        self.status, self.headers, self.body = status, headers, body

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    @property
    def location(self) -> str:
        return self.headers.get("location", "")


class FormParser(html.parser.HTMLParser):
    """The forms of a page: action, method and their named inputs (hidden values, selected options, buttons)."""

    def __init__(self):
        super().__init__()
        self.forms: list[dict] = []
        self._form = None
        self._select = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self._form = {"action": a.get("action") or "", "method": (a.get("method") or "get").lower(), "fields": {}, "buttons": []}
            self.forms.append(self._form)
        elif self._form is None:
            return
        elif tag == "input" and a.get("name"):
            kind = (a.get("type") or "text").lower()
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            if kind == "submit":
                self._form["buttons"].append((a["name"], a.get("value", ""), "disabled" in a))
            else:
                self._form["fields"][a["name"]] = a.get("value") or ""
        elif tag == "button":
            self._form["buttons"].append((a.get("name") or "", a.get("value") or "", "disabled" in a))
        elif tag == "select" and a.get("name"):
            self._select = a["name"]
            self._form["fields"].setdefault(self._select, "")
        elif tag == "option" and self._select and ("selected" in a or not self._form["fields"][self._select]):
            self._form["fields"][self._select] = a.get("value") or ""

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None


def forms_of(text: str) -> list[dict]:
    parser = FormParser()
    parser.feed(text)
    return parser.forms


def alert_text(text: str) -> str:
    """The page's error or notice, for the notes."""
    found = re.findall(r'(?:role="alert"|class="errorlist[^"]*"|class="alert[^"]*")[^>]*>(.*?)</', text, re.S)
    return " | ".join(re.sub(r"<[^>]+>|\s+", " ", f).strip() for f in found)[:300]


def form_with(text: str, *, field: str | None = None, action: str | None = None) -> dict | None:
    for form in forms_of(text):
        if (field is None or field in form["fields"]) and (action is None or action in form["action"]):
            return form
    return None


class Stats:
    """Every request: its type, outcome and time. Outcomes: the status, or the connection error's class."""

    def __init__(self):
        self.lock = threading.Lock()
        self.rows: list[tuple[float, str, str, float]] = []  # (t, kind, outcome, seconds)
        self.kills: list[float] = []
        self.restart: tuple[float, float] | None = None
        self.notes: list[str] = []

    def add(self, kind: str, outcome: str, seconds: float) -> None:
        with self.lock:
            self.rows.append((time.monotonic(), kind, outcome, seconds))

    def note(self, text: str) -> None:
        with self.lock:
            self.notes.append(text)
        print(f"  [{time.strftime('%H:%M:%S')}] {text}", flush=True)

    def window(self, t: float) -> str:
        """Whether a failure at time t falls in a chaos window."""
        if self.restart and self.restart[0] - 1 <= t <= self.restart[1] + RESTART_GRACE:
            return "restart"
        if any(k <= t <= k + WORKER_KILL_GRACE for k in self.kills):
            return "kill"
        return ""


class ClientError(Exception):
    pass


class Client:
    """One browser: its cookies, its CSRF token, plain http.client requests (the sync workers close each connection)."""

    def __init__(self, name: str, port: int, stats: Stats, deadline: float):
        self.name, self.port, self.stats, self.deadline = name, port, stats, deadline
        self.cookies: dict[str, str] = {}
        self.lock = threading.Lock()

    def request(self, method: str, path: str, kind: str, *, data: dict | None = None, files: dict | None = None,
                cookies: dict | None = None, timeout: float = 90) -> Response:
        headers = {"Host": f"127.0.0.1:{self.port}", "User-Agent": f"gjj-soak/{self.name}"}
        jar = dict(self.cookies if cookies is None else cookies)
        body = None
        if method == "POST":
            data = dict(data or {})
            data.setdefault("csrfmiddlewaretoken", jar.get("csrftoken", ""))
            if files:
                boundary = uuid.uuid4().hex
                parts = []
                for key, value in data.items():
                    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'.encode())
                for key, (file_name, content) in files.items():
                    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"; filename="{file_name}"\r\n'
                                 "Content-Type: application/vnd.openxmlformats-officedocument.spreadsheetml.sheet\r\n\r\n".encode())
                    parts.append(content + b"\r\n")
                parts.append(f"--{boundary}--\r\n".encode())
                body = b"".join(parts)
                headers["Content-Type"] = f"multipart/form-data; boundary={boundary}"
            else:
                body = urlencode(data).encode()
                headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Referer"] = f"http://127.0.0.1:{self.port}{path}"
        if jar:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in jar.items())
        started = time.monotonic()
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=headers)
            raw = conn.getresponse()
            payload = raw.read()
            response = Response(raw.status, {k.lower(): v for k, v in raw.getheaders()}, payload)
            set_cookies = raw.headers.get_all("Set-Cookie") or []
        except (OSError, http.client.HTTPException) as exc:
            self.stats.add(kind, type(exc).__name__, time.monotonic() - started)
            raise ClientError(f"{kind}: {type(exc).__name__}") from exc
        finally:
            conn.close()
        self.stats.add(kind, str(response.status), time.monotonic() - started)
        if cookies is None:
            with self.lock:
                for line in set_cookies:
                    for key, morsel in SimpleCookie(line).items():
                        if morsel.value and morsel["max-age"] != "0":
                            self.cookies[key] = morsel.value
                        else:
                            self.cookies.pop(key, None)
        return response

    def get(self, path: str, kind: str) -> Response:
        """GET and follow redirects (each hop recorded under the page it asked for)."""
        response = self.request("GET", path, kind)
        for _ in range(5):
            if response.status not in (301, 302, 303) or not response.location:
                break
            path = urlparse(response.location).path + (f"?{urlparse(response.location).query}" if urlparse(response.location).query else "")
            response = self.request("GET", path, kind + " ↪")
        return response

    def post(self, path: str, kind: str, data: dict, *, files: dict | None = None, replay: "Replays | None" = None,
             follow: bool = True) -> tuple[Response, str]:
        """POST; returns the answer and the path it redirected to (''). The form goes to the replaying client."""
        if replay is not None:
            replay.offer(self, path, kind, data, files)
        response = self.request("POST", path, kind, data=data, files=files)
        target = ""
        if response.status in (301, 302, 303) and response.location:
            parsed = urlparse(response.location)
            target = parsed.path + (f"?{parsed.query}" if parsed.query else "")
            if follow:
                response = self.get(target, kind + " ↪")
        return response, target

    def login(self, path: str, fields: dict, totp: str) -> None:
        import pyotp

        for _attempt in range(4):
            self.get(path, "login page")
            code = pyotp.TOTP(totp).now()
            response, target = self.post(path, "login", {**fields, "code": code}, follow=False)
            if target and "login" not in target:
                return
            time.sleep(31 - time.time() % 30)  # a code is accepted once per time step (SEC-07): wait for the next
        raise ClientError(f"{self.name}: login refused")


class Replays:
    """Recent POSTs of every client, replayed by one client with the same cookies: at once (a double click) or later
    (a stale form: the page kept open, the button pressed again)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.recent: deque = deque(maxlen=300)

    def offer(self, client: Client, path: str, kind: str, data: dict, files: dict | None) -> None:
        if kind.startswith("login"):
            return
        with self.lock:
            self.recent.append((dict(client.cookies), path, kind, dict(data), files))

    def pick(self):
        with self.lock:
            return random.choice(self.recent) if self.recent else None


# ---------------------------------------------------------------- the actors


def register_file(rows: list[tuple[str, str, str, str]]) -> bytes:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("清册")
    ws.append(["姓名", "证件类型", "证件号码", "手机号码", "缴存基数", "单位缴存比例", "个人缴存比例", "起缴年月"])
    for name, number, base, start in rows:
        ws.append([name, "居民身份证", number, "13904770001", base, "12%", "12%", start])
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


class Ledger:
    """What the clients believe happened: payments by bank serial, allocations by employer and month."""

    def __init__(self):
        self.lock = threading.Lock()
        self.payments: dict[str, dict] = {}  # serial → {employer, amount, outcome: ok / refused / unknown}
        self.allocations: dict[tuple[str, str], str] = {}  # (employer, 汇缴年月) → ok / unknown
        self.counts = Counter()

    def count(self, what: str, n: int = 1) -> None:
        with self.lock:
            self.counts[what] += n


class Agent(threading.Thread):
    def __init__(self, spec: dict, *, port: int, stats: Stats, ledger: Ledger, replays: Replays, bank: queue.Queue, deadline: float,
                 password: str, totp: str):
        super().__init__(name=f"agent-{spec['account_no']}", daemon=True)
        self.spec, self.ledger, self.replays, self.bank, self.deadline = spec, ledger, replays, bank, deadline
        self.password, self.totp = password, totp
        self.client = Client(self.name, port, stats, deadline)
        self.rng = random.Random(spec["index"])
        self.cycles = 0

    def new_id(self) -> str:
        self.spec["next_id"] += 1
        return id_number(self.spec["next_id"])

    def run(self) -> None:
        try:
            self.client.login("/login/", {"account_no": self.spec["account_no"], "login_name": "soak", "password": self.password},
                              self.totp)
        except ClientError as exc:
            self.client.stats.note(f"{self.name}: {exc}")
            return
        while time.monotonic() < self.deadline:
            for step in (self.register, self.base_adjust, self.remit, self.queries):
                if time.monotonic() >= self.deadline:
                    break
                try:
                    step()
                except ClientError:
                    time.sleep(1 + self.rng.random())  # a dropped connection: look again, as a person would
                except Exception as exc:  # noqa: BLE001 - a soak client reports what surprised it and goes on
                    self.client.stats.note(f"{self.name}: {step.__name__}: {type(exc).__name__}: {exc}")
                    time.sleep(1)
            self.cycles += 1

    def next_period(self) -> str | None:
        page = self.client.get("/remittance/assess/", "汇缴核定 page")
        form = form_with(page.text, field="period")
        return form["fields"]["period"] if form else None

    def register(self) -> None:
        """录入清册 one person by hand, 批量导入 a few more, 【完成办理】, 打印."""
        c = self.client
        period = self.next_period() or f"{date.today():%Y-%m}"
        page = c.get("/business/member_register/", "缴存人登记 page")
        entry = form_with(page.text, field="id_number")
        if entry is not None:
            n = self.spec["next_id"] + 1
            fields = {**entry["fields"], "name": cn_name("新职工", n), "id_number": self.new_id(), "phone": "13904770002",
                      "base": f"{self.rng.randrange(2500, 20000)}.00", "employer_rate": "12%", "member_rate": "12%", "start_period": period}
            c.post(entry["action"] or urlparse(page.headers.get("location", "")).path or "/business/member_register/",
                   "录入清册", fields, replay=self.replays)
        rows = []
        for _ in range(self.rng.randrange(3, 9)):
            n = self.spec["next_id"] + 1
            rows.append((cn_name("导入职工", n), self.new_id(), f"{self.rng.randrange(2500, 20000)}.00", period))
        page = c.get("/business/member_register/import/", "批量导入 page")
        form = form_with(page.text, action="import") or {"fields": {}}
        response, target = c.post("/business/member_register/import/", "批量导入 upload", {k: v for k, v in form["fields"].items()},
                                  files={"file": (f"soak-{uuid.uuid4().hex[:8]}.xlsx", register_file(rows))}, replay=self.replays,
                                  follow=False)
        if target.startswith("/imports/"):
            for _ in range(120):  # the task worker checks the file; the page polls
                page = c.get(target, "批量导入 progress")
                if "正在校验" not in page.text:
                    break
                time.sleep(0.5)
            form = form_with(page.text, field="csrfmiddlewaretoken", action="")
            if any(name == "mode" for name, _v, _d in (form or {}).get("buttons", [])):
                c.post(target, "批量导入 stage", {"mode": "good"}, replay=self.replays)
            self.ledger.count("imports")
        page = c.get("/business/member_register/", "缴存人登记 page")
        complete = form_with(page.text, action="/complete/")
        if complete is not None:
            response, target = c.post(complete["action"], "完成办理", complete["fields"], replay=self.replays)
            if "成功" in response.text or "已办结" in response.text:
                self.ledger.count("registrations completed")
            printing = form_with(response.text, action="/print/")
            if printing is not None:
                pdf, _ = c.post(printing["action"], "打印 (清册)", printing["fields"])
                self.ledger.count("batch prints" if pdf.body.startswith(b"%PDF") else "batch print refused")

    def base_adjust(self) -> None:
        """基数调整 of one member, 【提交审批】; a returned one is resubmitted or its flow ended."""
        c = self.client
        page = c.get("/business/base_adjust/", "基数调整 page")
        complete = form_with(page.text, action="/complete/")
        if "已退回" in page.text:
            link = next((f["action"] for f in forms_of(page.text) if f["action"].endswith("/end/")), None)
            if link and self.rng.random() < 0.5:
                c.post(link, "结束流程", {}, replay=self.replays)
                self.ledger.count("returned flows ended")
                return
            if complete is not None:
                c.post(complete["action"], "提交审批", complete["fields"], replay=self.replays)
                self.ledger.count("returned resubmitted")
            return
        if "已提交审批" in page.text:
            return
        entry = form_with(page.text, field="new_base")
        period = self.next_period()
        if entry is None or period is None:
            return
        year, month = map(int, period.split("-"))
        later = date(year + (month + 1) // 12, (month + 1) % 12 + 1, 1)  # two months ahead: the center has time to approve
        fields = {**entry["fields"], "account_no": self.rng.choice(self.spec["members"]), "new_base": f"{self.rng.randrange(2500, 20000)}.00",
                  "effective_period": f"{later:%Y-%m}"}
        response, _ = c.post(entry["action"] or "/business/base_adjust/", "录入清册 (基数调整)", fields, replay=self.replays)
        complete = form_with(response.text, action="/complete/")
        if complete is not None:
            c.post(complete["action"], "提交审批", complete["fields"], replay=self.replays)
            self.ledger.count("base adjustments submitted")

    def remit(self) -> None:
        """汇缴核定 → 缴款 (by a reviewer) → 汇缴分配 → 汇缴书."""
        c = self.client
        page = c.get("/remittance/assess/", "汇缴核定 page")
        form = form_with(page.text, field="period")
        if form is not None and not any(disabled for *_x, disabled in form["buttons"]):
            response, _ = c.post("/remittance/assess/", "汇缴核定", form["fields"], replay=self.replays)
            if "核定成功" in response.text:
                self.ledger.count("assessments")
        listing = c.get("/remittance/allocate/", "汇缴分配 list")
        pks = sorted({int(pk) for pk in re.findall(r"/remittance/allocate/(\d+)/", listing.text)})
        if not pks:
            return
        path = f"/remittance/allocate/{pks[0]}/"
        asked = False
        for _ in range(60):
            page = c.get(path, "汇缴分配 page")
            form = form_with(page.text, field="key")
            if form is None:
                return
            period = re.search(r"汇缴分配 · (\d{4})年(\d{2})月", page.text)
            if not any(disabled for *_x, disabled in form["buttons"]):
                break
            if not asked:
                short = re.search(r"还差 <span class=\"money\">([\d,\.]+)</span>", page.text)
                amount = short.group(1).replace(",", "") if short else "0"
                self.bank.put((self.spec["account_no"], amount))
                asked = True
            time.sleep(1)
            if time.monotonic() >= self.deadline:
                return
        else:
            return
        key = (self.spec["account_no"], f"{period.group(1)}-{period.group(2)}" if period else "?")
        with self.ledger.lock:
            self.ledger.allocations.setdefault(key, "unknown")
        response, target = c.post(path, "汇缴分配", form["fields"], replay=self.replays, follow=False)
        if "/done/" in target:
            with self.ledger.lock:
                self.ledger.allocations[key] = "ok"
            c.get(target, "汇缴分配 done")
            entry = target.split("/")[3]
            pdf = c.get(f"/remittance/entries/{entry}/slip.pdf", "打印 汇缴书 PDF")
            self.ledger.count("slips" if pdf.body.startswith(b"%PDF") else "slip refused")
            if self.cycles % 3 == 0:
                pdf = c.get(f"/remittance/entries/{entry}/detail.pdf", "打印 明细 PDF")
                self.ledger.count("detail prints" if pdf.body.startswith(b"%PDF") else "detail refused")

    def queries(self) -> None:
        c = self.client
        c.get("/", "首页")
        c.get(f"/remittance/query/account/?start={FIRST_PERIOD:%Y-%m-%d}&end={date.today():%Y-%m-%d}", "账户信息查询")
        c.get(f"/remittance/query/journal/?kind=remittance&start={date.today() - timedelta(days=30):%Y-%m-%d}&end={date.today():%Y-%m-%d}",
              "业务流水查询")
        c.get("/members/query/", "缴存人信息查询")
        c.get("/remittance/assessments/", "汇缴核定查询")
        c.get("/tasks/done/", "已办")


class Reviewer(threading.Thread):
    """缴款 for the agents that wait for money, then 【通过】 (four in five) or 【退回】 of what waits in the queue."""

    def __init__(self, n: int, *, port: int, stats: Stats, ledger: Ledger, replays: Replays, bank: queue.Queue, deadline: float,
                 password: str, totp: str):
        super().__init__(name=f"reviewer-{n}", daemon=True)
        self.n, self.ledger, self.replays, self.bank, self.deadline = n, ledger, replays, bank, deadline
        self.password, self.totp = password, totp
        self.client = Client(self.name, port, stats, deadline)
        self.rng = random.Random(1000 + n)

    def run(self) -> None:
        try:
            self.client.login("/center/login/", {"username": f"soak-reviewer{self.n}", "password": self.password}, self.totp)
        except ClientError as exc:
            self.client.stats.note(f"{self.name}: {exc}")
            return
        while time.monotonic() < self.deadline:
            try:
                try:
                    account_no, amount = self.bank.get(timeout=0.5)
                except queue.Empty:
                    self.review()
                    time.sleep(0.5 + self.rng.random())
                else:
                    self.pay(account_no, amount)
            except ClientError:
                time.sleep(1)
            except Exception as exc:  # noqa: BLE001
                self.client.stats.note(f"{self.name}: {type(exc).__name__}: {exc}")
                time.sleep(1)

    def pay(self, account_no: str, amount: str) -> None:
        c = self.client
        serial = f"SOAK{account_no}{uuid.uuid4().hex[:12].upper()}"
        with self.ledger.lock:
            self.ledger.payments[serial] = {"employer": account_no, "amount": Decimal(amount), "outcome": "unknown"}
        page = c.get("/center/payments/", "缴款 page")
        form = form_with(page.text, field="bank_serial_no") or {"fields": {}}
        fields = {**form["fields"], "account_no": account_no, "amount": amount, "value_date": f"{date.today():%Y-%m-%d}",
                  "bank_serial_no": serial}
        for attempt in range(6):
            try:
                response, target = c.post("/center/payments/", "缴款", fields, replay=self.replays, follow=False)
            except ClientError:
                time.sleep(2)  # the answer was lost: the same serial again is refused if the first one was recorded
                continue
            if response.status >= 500:  # the outcome is unknown (the database went away around the commit): send it again
                time.sleep(2)
                continue
            duplicate = "同一笔缴款不能重复入账" in response.text
            with self.ledger.lock:
                # a retry refused as a duplicate: the first attempt was recorded, only its answer was lost
                self.ledger.payments[serial]["outcome"] = "ok" if target or (duplicate and attempt) else "refused"
            if target:
                c.get(target, "缴款 ↪")
            return

    def review(self) -> None:
        c = self.client
        page = c.get("/center/applications/", "待审批业务")
        pks = sorted({int(pk) for pk in re.findall(r"/center/applications/(\d+)/", page.text)})
        if not pks:
            return
        pk = self.rng.choice(pks)
        page = c.get(f"/center/applications/{pk}/", "审批 page")
        form = form_with(page.text, field="version")
        if form is None:
            return
        passing = self.rng.random() < 0.8
        fields = {**form["fields"], "opinion": "同意" if passing else "基数与工资凭证不符，请核对后重新提交"}
        response, target = c.post(f"/center/applications/{pk}/{'pass' if passing else 'return'}/", "通过" if passing else "退回",
                                  fields, replay=self.replays)
        if target:
            self.ledger.count("passed" if passing else "returned")
            return
        why = alert_text(response.text)
        self.ledger.count(f"decision refused ({response.status})")
        again = form_with(response.text, field="version")
        if passing and "请退回经办人" in why and again is not None:  # the month was assessed meanwhile: return it, as it says
            response, target = c.post(f"/center/applications/{pk}/return/", "退回", {**again["fields"], "opinion": why[:200]},
                                      replay=self.replays)
            self.ledger.count("returned (assessed meanwhile)" if target else f"decision refused ({response.status})")
        elif self.ledger.counts[f"decision refused ({response.status})"] <= 3:
            c.stats.note(f"{self.name}: decision refused ({response.status}): {why}")


class Replayer(threading.Thread):
    def __init__(self, *, port: int, stats: Stats, replays: Replays, deadline: float):
        super().__init__(name="replayer", daemon=True)
        self.replays, self.deadline = replays, deadline
        self.client = Client(self.name, port, stats, deadline)
        self.rng = random.Random(7)
        self.sent = Counter()

    def send(self, item, label: str) -> None:
        cookies, path, kind, data, files = item
        try:
            self.client.request("POST", path, f"replay: {kind}", data=data, files=files, cookies=cookies)
        except ClientError:
            pass
        self.sent[label] += 1

    def run(self) -> None:
        time.sleep(5)
        while time.monotonic() < self.deadline:
            item = self.replays.pick()
            if item is None:
                time.sleep(1)
                continue
            if self.rng.random() < 0.5:  # a double click: the same form twice at once
                twins = [threading.Thread(target=self.send, args=(item, "double click")) for _ in range(2)]
                for twin in twins:
                    twin.start()
                for twin in twins:
                    twin.join(120)
            else:
                self.send(item, "stale form")
            time.sleep(0.5 + self.rng.random() * 1.5)


# ---------------------------------------------------------------- the servers and the chaos


class Chaos(threading.Thread):
    """Two SIGKILLs of a web worker and one PostgreSQL restart, spread over the run."""

    def __init__(self, *, master: int, stats: Stats, started: float, seconds: float):
        super().__init__(name="chaos", daemon=True)
        self.master, self.stats, self.started, self.seconds = master, stats, started, seconds
        self.survived = Counter()

    def at(self, fraction: float) -> bool:
        end = self.started + self.seconds * fraction
        while time.monotonic() < end:
            time.sleep(0.2)
        return True

    def kill_worker(self) -> None:
        workers = children(self.master)
        victim = random.choice(workers)
        self.stats.kills.append(time.monotonic())
        os.kill(victim, signal.SIGKILL)
        self.stats.note(f"SIGKILL web worker {victim} (workers were {sorted(workers)})")
        for _ in range(60):
            time.sleep(0.5)
            now = children(self.master)
            if victim not in now and len(now) >= len(workers):
                self.stats.note(f"gunicorn replaced it: workers {sorted(now)}")
                self.survived["worker kills"] += 1
                return
        self.stats.note("gunicorn did not replace the killed worker within 30 s")

    def restart_postgres(self) -> None:
        version = sorted(os.listdir("/etc/postgresql"))[-1]
        self.stats.note(f"RESTARTING PostgreSQL (cluster {version}/main, shared by this machine) now")
        begin = time.monotonic()
        done = subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart"], capture_output=True, text=True)
        end = time.monotonic()
        self.stats.restart = (begin, end)
        self.stats.note(f"PostgreSQL restart took {end - begin:.1f} s (exit {done.returncode}) {done.stderr.strip()}")
        if done.returncode == 0:
            self.survived["PostgreSQL restarts"] += 1

    def run(self) -> None:
        self.at(0.25) and self.kill_worker()
        self.at(0.45) and self.restart_postgres()
        self.at(0.65) and self.kill_worker()


class Supervised:
    """A process kept running as systemd's Restart=always would (the task worker after the database restart)."""

    def __init__(self, args: list[str], env: dict, log: Path, stats: Stats, label: str):
        self.args, self.env, self.log, self.stats, self.label = args, env, log, stats, label
        self.restarts = 0
        self.stop = threading.Event()
        self.process = self._start()
        threading.Thread(target=self._watch, daemon=True).start()

    def _start(self):
        return subprocess.Popen(self.args, env=self.env, cwd=ROOT, stdout=self.log.open("ab"), stderr=subprocess.STDOUT)

    def _watch(self):
        while not self.stop.is_set():
            if self.process.poll() is not None and not self.stop.is_set():
                self.restarts += 1
                self.stats.note(f"{self.label} exited ({self.process.returncode}); started again")
                time.sleep(1)
                self.process = self._start()
            time.sleep(0.5)

    def terminate(self):
        self.stop.set()
        self.process.terminate()
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()


# ---------------------------------------------------------------- the checks afterwards


def check_books(ledger: Ledger) -> dict:
    """The journal, the members' accounts, duplicates, the clients' ledger against the database, the audit chain."""
    from django.db import connections
    from django.db.models import Count, Sum

    from gjj_portal.audit import verify_chain
    from remittance.journal import account_balance, reconcile
    from remittance.models import Account, Assessment, AssessmentLine, Entry, Line, Payment
    from remittance.selectors import employer_unallocated

    connections.close_all()  # the connection of the setup did not outlive the restart
    zero = Decimal("0.00")
    out: dict = {"problems": []}
    problems = out["problems"]
    problems += [f"journal: {p}" for p in reconcile()]
    out["entries"] = Entry.objects.count()
    out["lines"] = Line.objects.count()
    unbalanced = Entry.objects.annotate(total=Sum("lines__amount", default=zero)).exclude(total=zero).count()
    out["unbalanced entries"] = unbalanced

    # every member's balance (account_balance, the project's own) = the sum of its lines = what was assessed and allocated
    assessed = dict(AssessmentLine.objects.filter(assessment__status=Assessment.Status.ALLOCATED).values("member")
                    .annotate(total=Sum("amount")).values_list("member", "total"))
    by_member = dict(Line.objects.filter(account__kind=Account.Kind.MEMBER).values("account__member")
                     .annotate(total=Sum("amount")).values_list("account__member", "total"))
    accounts = list(Account.objects.filter(kind=Account.Kind.MEMBER))
    wrong = 0
    for account in accounts:
        balance = account_balance(account)
        if balance != -by_member.get(account.member_id, zero) or balance != assessed.get(account.member_id, zero):
            wrong += 1
            if wrong <= 5:
                problems.append(f"member {account.member_id}: balance {balance}, lines {-by_member.get(account.member_id, zero)}, "
                                f"allocated {assessed.get(account.member_id, zero)}")
    missing = set(assessed) - {a.member_id for a in accounts}
    if missing:
        problems.append(f"{len(missing)} members allocated without a journal account")
    out["member accounts checked"] = len(accounts)
    out["member accounts wrong"] = wrong

    # exactly once: one allocation entry per allocated assessment, one payment per bank serial, one entry per payment
    allocated = Assessment.objects.filter(status=Assessment.Status.ALLOCATED)
    remittance_entries = Entry.objects.filter(kind=Entry.Kind.REMITTANCE)
    out["allocations"] = allocated.count()
    if remittance_entries.count() != allocated.count():
        problems.append(f"{remittance_entries.count()} 汇缴 entries for {allocated.count()} allocated assessments")
    doubled = allocated.values("employer", "period").annotate(n=Count("id")).filter(n__gt=1).count()
    if doubled:
        problems.append(f"{doubled} months allocated twice")
    payments = Payment.objects.count()
    out["payments"] = payments
    if Payment.objects.values("bank_serial_no").distinct().count() != payments:
        problems.append("a bank serial recorded twice")
    if Entry.objects.filter(kind=Entry.Kind.PAYMENT).count() != payments:
        problems.append(f"{Entry.objects.filter(kind=Entry.Kind.PAYMENT).count()} 缴款 entries for {payments} payments")

    # the clients' ledger against the database: nothing acknowledged is missing, nothing appears twice or from nowhere
    in_db = {p.bank_serial_no: p for p in Payment.objects.select_related("employer")}
    lost = [s for s, p in ledger.payments.items() if p["outcome"] == "ok" and s not in in_db]
    strays = [s for s in in_db if s not in ledger.payments]
    mismatched = [s for s, p in ledger.payments.items() if s in in_db and (in_db[s].amount != p["amount"] or in_db[s].employer.account_no != p["employer"])]
    refused_but_there = [s for s, p in ledger.payments.items() if p["outcome"] == "refused" and s in in_db]
    out["payments acknowledged"] = sum(p["outcome"] == "ok" for p in ledger.payments.values())
    out["payments unanswered (connection lost)"] = sum(p["outcome"] == "unknown" for p in ledger.payments.values())
    out["payments unanswered, found recorded once"] = sum(p["outcome"] == "unknown" and s in in_db for s, p in ledger.payments.items())
    for label, items in (("acknowledged payments missing", lost), ("payments nobody sent", strays), ("payments with another amount or employer",
                         mismatched), ("refused payments recorded", refused_but_there)):
        if items:
            problems.append(f"{label}: {items[:5]} ({len(items)})")
    db_alloc = {(a.employer.account_no, f"{a.period:%Y-%m}") for a in allocated.select_related("employer")}
    lost_alloc = [k for k, v in ledger.allocations.items() if v == "ok" and k not in db_alloc]
    if lost_alloc:
        problems.append(f"acknowledged allocations missing: {lost_alloc[:5]} ({len(lost_alloc)})")
    out["allocations acknowledged"] = sum(v == "ok" for v in ledger.allocations.values())

    # each employer's 未分配金额 (the journal, as the pages show it) = its payments − its allocations
    from employers.models import Employer

    for employer in Employer.objects.all():
        paid = Payment.objects.filter(employer=employer).aggregate(t=Sum("amount", default=zero))["t"]
        spent = allocated.filter(employer=employer).aggregate(t=Sum("amount", default=zero))["t"]
        if employer_unallocated(employer=employer) != paid - spent:
            problems.append(f"{employer.account_no}: 未分配金额 {employer_unallocated(employer=employer)} ≠ 缴款 {paid} − 分配 {spent}")
    chain = verify_chain()
    out["audit chain"] = "verified" if not chain else f"{len(chain)} problems"
    problems += [f"audit: {p}" for p in chain[:5]]
    from gjj_portal.models import AuditEvent

    out["audit events"] = AuditEvent.objects.count()
    return out


def report(stats: Stats, *, seconds: float) -> dict:
    by_kind: dict[str, list[float]] = defaultdict(list)
    outcomes: dict[str, Counter] = defaultdict(Counter)
    errors = Counter()
    five_hundreds = []
    calm_by_kind: dict[str, list[float]] = defaultdict(list)
    for t, kind, outcome, duration in stats.rows:
        by_kind[kind].append(duration)
        if not stats.window(t) and not stats.window(t - duration):
            calm_by_kind[kind].append(duration)
        outcomes[kind][outcome] += 1
        window = stats.window(t)
        if outcome == "500":
            errors[f"500 {'during ' + window if window else 'OUTSIDE a chaos window'}"] += 1
            if not window:
                five_hundreds.append(kind)
        elif not outcome.isdigit():
            errors[f"{outcome} {'during ' + window if window else 'OUTSIDE a chaos window'}"] += 1
        elif outcome.startswith("5"):
            errors[f"{outcome} {'during ' + window if window else 'OUTSIDE a chaos window'}"] += 1
    print(f"\n{'request type':<28} {'n':>6} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'p95 calm':>8}  statuses"
          "   (p95 calm: outside the chaos windows)")
    table = []
    for kind in sorted(by_kind, key=lambda k: (k.startswith("replay"), k)):
        values = by_kind[kind]
        calm = calm_by_kind.get(kind) or values
        row = {"kind": kind, "n": len(values), "p50": statistics.median(values) * 1000, "p95": percentile(values, 0.95) * 1000,
               "max": max(values) * 1000, "p95 calm": percentile(calm, 0.95) * 1000, "statuses": dict(outcomes[kind])}
        table.append(row)
        codes = " ".join(f"{k}×{v}" for k, v in sorted(outcomes[kind].items()))
        print(f"{kind:<28} {row['n']:>6} {row['p50']:>8.0f} {row['p95']:>8.0f} {row['max']:>8.0f} {row['p95 calm']:>8.0f}  {codes}")
    total = len(stats.rows)
    print(f"\nrequests: {total} in {seconds:.0f} s ({total / seconds:.1f}/s)")
    print("errors by kind:", dict(errors) or "none")
    return {"table": table, "requests": total, "seconds": seconds, "errors": dict(errors), "500 outside": five_hundreds}


# ---------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--agents", type=int, default=16)
    parser.add_argument("--members", type=int, default=200, help="members per employer at the start")
    parser.add_argument("--database", default="gjj_soak", help="scratch database (dropped and created; must end in _soak)")
    parser.add_argument("--no-chaos", action="store_true", help="no worker kills, no PostgreSQL restart")
    parser.add_argument("--json", type=Path, default=None, help="write the figures and checks to this file")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (logs, certificate)")
    args = parser.parse_args()
    if not args.database.endswith("_soak"):
        sys.exit(f"refused: the soak drops and recreates its database; {args.database!r} does not end in _soak")

    workdir = Path(tempfile.mkdtemp(prefix="gjj-soak-"))
    port = free_port()
    env = server_env(workdir, args.database, port)
    os.environ.update({k: v for k, v in env.items() if k.startswith("GJJ_") or k in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE")})
    sys.path.insert(0, str(workdir))
    load = os.getloadavg()
    print(f"soak: {args.agents} agents × {args.members} members, 2 reviewers, 1 replaying client, {args.minutes:g} min, "
          f"database {args.database}, http://127.0.0.1:{port}/, folder {workdir}; load average before {load[0]:.2f} {load[1]:.2f}",
          flush=True)
    fresh_database(args.database)
    started = time.monotonic()
    for command in (["migrate", "--verbosity", "0"], ["createcachetable"], ["collectstatic", "--noinput", "--verbosity", "0"]):
        subprocess.run([PYTHON, "manage.py", *command], env=env, cwd=ROOT, check=True)

    import django

    django.setup()
    from gjj_portal.printing.signing import _self_signed

    _self_signed(Path(env["GJJ_SIGNING_CERT"]), Path(env["GJJ_SIGNING_KEY"]), "鄂尔多斯市住房公积金中心")
    import pyotp

    password, totp = secrets.token_urlsafe(18) + "Aa1!", pyotp.random_base32()
    specs = build(agents=args.agents, members=args.members, password=password, totp=totp)
    from django.db import connections

    connections.close_all()
    print(f"  built in {time.monotonic() - started:.0f} s", flush=True)

    stats, ledger, replays, bank = Stats(), Ledger(), Replays(), queue.Queue()
    server_log = workdir / "gunicorn.log"
    gunicorn = subprocess.Popen([GUNICORN, "gjj_portal.wsgi", "--workers", "4", "--bind", f"127.0.0.1:{port}", "--timeout", "60",
                                 "--graceful-timeout", "10"], env=env, cwd=ROOT, stdout=server_log.open("ab"), stderr=subprocess.STDOUT)
    worker = Supervised([PYTHON, "manage.py", "db_worker"], env, workdir / "db_worker.log", stats, "db_worker")
    try:
        wait_up(port)
        seconds = args.minutes * 60
        begin = time.monotonic()
        deadline = begin + seconds
        actors = [Agent(spec, port=port, stats=stats, ledger=ledger, replays=replays, bank=bank, deadline=deadline, password=password, totp=totp)
                  for spec in specs]
        actors += [Reviewer(n, port=port, stats=stats, ledger=ledger, replays=replays, bank=bank, deadline=deadline, password=password,
                            totp=totp) for n in (1, 2)]
        replayer = Replayer(port=port, stats=stats, replays=replays, deadline=deadline)
        for actor in [*actors, replayer]:
            actor.start()
        chaos = None
        if not args.no_chaos:
            chaos = Chaos(master=gunicorn.pid, stats=stats, started=begin, seconds=seconds)
            chaos.start()
        while time.monotonic() < deadline:
            time.sleep(min(30, max(0.1, deadline - time.monotonic())))
            print(f"  … {time.monotonic() - begin:4.0f} s: {len(stats.rows)} requests, load {os.getloadavg()[0]:.2f}", flush=True)
        for actor in [*actors, replayer]:
            actor.join(180)
        if chaos is not None:
            chaos.join(60)
        elapsed = time.monotonic() - begin
        load_after = os.getloadavg()
    finally:
        gunicorn.send_signal(signal.SIGTERM)
        try:
            gunicorn.wait(30)
        except subprocess.TimeoutExpired:
            gunicorn.kill()
        worker.terminate()

    result = report(stats, seconds=elapsed)
    agent_cycles = sum(a.cycles for a in actors if isinstance(a, Agent))
    print(f"agent cycles: {agent_cycles}; replays: {dict(replayer.sent)}; client counts: {dict(ledger.counts)}")
    if chaos is not None:
        print(f"survived: {dict(chaos.survived)}; db_worker restarts: {worker.restarts}")
    logged = server_errors(server_log)
    print(f"server errors logged by django.request: {len(logged)}")
    for line in logged[:20]:
        print("   ", line)
    books = check_books(ledger)
    print("checks:")
    for key, value in books.items():
        if key != "problems":
            print(f"  {key}: {value}")
    print("  problems:", books["problems"] or "none")
    print(f"load average after {load_after[0]:.2f} {load_after[1]:.2f} {load_after[2]:.2f}")
    verdict = not books["problems"] and not result["500 outside"]
    print("RESULT:", "PASS" if verdict else "FAIL")
    if args.json:
        args.json.write_text(json.dumps({
            **result, "cycles": agent_cycles, "replays": dict(replayer.sent), "counts": dict(ledger.counts),
            "survived": dict(chaos.survived) if chaos else {}, "db_worker restarts": worker.restarts, "server errors": logged,
            "books": books, "notes": stats.notes, "load before": load, "load after": load_after, "pass": verdict,
        }, ensure_ascii=False, indent=1, default=str))
    if not args.keep:
        for path in sorted(workdir.rglob("*"), reverse=True):
            if path.is_file() and path.suffix != ".log":
                path.unlink()
        print(f"logs kept in {workdir}")
    sys.exit(0 if verdict else 1)


if __name__ == "__main__":
    main()
