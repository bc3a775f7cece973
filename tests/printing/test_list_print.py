"""The sealed table of the query prints: frozen snapshot, PDF content, pages, seal and QR, PAdES, 查验码 (SEC-30)."""

import io
import socket
from decimal import Decimal

import pytest
from pypdf import PdfReader

from employers.models import Center
from gjj_portal.errors import BusinessError
from gjj_portal.models import AuditEvent, ListPrint
from gjj_portal.printing import documents, services
from gjj_portal.printing.signing import pdf_verify
from gjj_portal.printing.table import Column, page_size
from gjj_portal.templatetags.gjj import yuan

pytestmark = pytest.mark.django_db
BASE = "http://testserver/"
COLUMNS = [Column("个人账号", 30), Column("姓名", 30), Column("金额", 30, "r")]


def pdf_text(pdf: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def issue(employer, agent, rows, **kw) -> ListPrint:
    kw.setdefault("totals", [("金额", yuan(sum((Decimal(r[2]) for r in rows), Decimal("0.00"))))])
    kw.setdefault("filters", [("开户日期自", "2026-01-01")])
    return services.list_print_issue(
        kind="member_accounts", employer=employer, agent=agent, center=Center.current(),
        columns=COLUMNS, rows=rows, **kw,
    )


def rows(n: int) -> list[list[str]]:
    return [[f"2000{i:06d}", f"职工{i}", f"{1000 + i}.50"] for i in range(n)]


def test_print_freezes_rows_header_and_code_and_is_audited(employer, agent):
    snapshot = issue(employer, agent, rows(3))
    content = snapshot.content
    assert snapshot.number.startswith("DY") and len(snapshot.number) == 16
    assert (snapshot.employer, snapshot.printed_by, snapshot.row_count) == (employer, agent, 3)
    assert content["rows"][1] == ["2000000001", "职工1", "1001.50"]
    assert content["employer_name"] == employer.name and content["employer_account_no"] == employer.account_no
    assert content["center_name"] == "鄂尔多斯市住房公积金中心" and content["filters"] == [["开户日期自", "2026-01-01"]]
    assert content["totals"] == [["金额", yuan(Decimal("3004.50"))]]
    assert snapshot.code == services.list_print_code(number=snapshot.number, kind=snapshot.kind, employer_id=employer.pk,
                                                     content=content, key_id=snapshot.key_id)
    event = AuditEvent.objects.get(event="printing.list.printed")
    assert (event.actor_id, event.employer_id, event.object_id) == (agent.pk, employer.pk, str(snapshot.pk))
    assert event.data == {"number": snapshot.number, "kind": "member_accounts", "rows": 3}


def test_numbers_are_unique_and_increase(employer, agent):
    first, second = issue(employer, agent, rows(1)), issue(employer, agent, rows(1))
    assert int(second.number[-6:]) == int(first.number[-6:]) + 1


def test_pdf_shows_header_rows_totals_and_verification(employer, agent):
    snapshot = issue(employer, agent, rows(3))
    text = pdf_text(services.list_print_render(snapshot, base_url=BASE))
    for piece in ("鄂尔多斯市住房公积金中心", "缴存人账户信息", employer.name, employer.account_no, "开户日期自 2026-01-01",
                  "个人账号", "职工2", "2000000002", "1002.50", "合计", yuan(Decimal("3004.50")), "共 3 条记录",
                  snapshot.number, snapshot.code[:16].upper(), snapshot.content["printed_at"], "第 1 页 / 共 1 页"):
        assert piece in text, piece


def test_reprint_of_the_same_snapshot_gives_the_same_document(employer, agent):
    snapshot = issue(employer, agent, rows(30))
    again = ListPrint.objects.get(pk=snapshot.pk)
    assert services.list_print_render(snapshot, base_url=BASE) == services.list_print_render(again, base_url=BASE)


def test_signed_pdf_validates_and_a_one_byte_change_does_not(employer, agent):
    signed = documents.document_pdf(issue(employer, agent, rows(3)), base_url=BASE)
    assert signed.startswith(b"%PDF") and pdf_verify(signed)
    position = signed.index(b"/Producer") + 12
    tampered = bytearray(signed)
    tampered[position] = (tampered[position] + 1) % 256
    assert not pdf_verify(bytes(tampered))


def test_long_list_repeats_the_header_row_on_every_page(employer, agent):
    snapshot = issue(employer, agent, rows(120))
    reader = PdfReader(io.BytesIO(services.list_print_render(snapshot, base_url=BASE)))
    pages = [page.extract_text() for page in reader.pages]
    assert len(pages) >= 3
    for number, text in enumerate(pages, start=1):
        assert "个人账号" in text and "金额" in text and employer.name in text
        assert f"第 {number} 页 / 共 {len(pages)} 页" in text
    joined = "".join(pages)
    assert all(f"2000{i:06d}" in joined for i in range(120))
    assert "共 120 条记录" in pages[-1]


def test_wide_lists_turn_landscape_and_narrow_ones_stay_portrait():
    portrait, landscape = page_size([30, 30, 30]), page_size([30] * 8)
    assert portrait[0] < portrait[1] and landscape[0] > landscape[1]


def test_markup_in_user_text_prints_literally_and_fetches_nothing(employer, agent, monkeypatch):
    """SEC-30: 用户文字中的标记原样打印，不会触发任何网络请求。"""
    employer.name = '<img src="http://127.0.0.1:9/x.png"/>&amp;<font color="[[[1]]]">x</font>'
    employer.save()
    calls = []
    monkeypatch.setattr(socket, "create_connection", lambda *a, **k: calls.append(a))
    snapshot = issue(employer, agent, [["1", '<font color="[[[1]]]">x</font>', "1.00"]],
                     filters=[("个人账号或姓名", "<b>张</b>")])
    text = pdf_text(documents.document_pdf(snapshot, base_url=BASE))
    assert '<img src="http://127.0.0.1:9/x.png"/>&amp;' in text
    assert '<font color="[[[1]]]">x</font>' in text and "<b>张</b>" in text
    assert calls == []


def test_an_empty_result_prints_a_sealed_page_saying_so(employer, agent):
    snapshot = issue(employer, agent, [], totals=[])
    text = pdf_text(services.list_print_render(snapshot, base_url=BASE))
    assert "没有符合条件的记录" in text and "共 0 条记录" in text and "合计" not in text


def test_more_rows_than_the_cap_are_refused_in_chinese(employer, agent, monkeypatch):
    monkeypatch.setattr(services, "MAX_ROWS", 5)
    with pytest.raises(BusinessError, match="查询结果共 6 条，超过单次打印上限 5 条"):
        issue(employer, agent, rows(6))
    assert not ListPrint.objects.exists()
    services.row_cap_check(5)
    assert services.MAX_ROWS == 5


def test_the_default_cap_is_twenty_thousand_rows():
    with pytest.raises(BusinessError, match="超过单次打印上限 20000 条"):
        services.row_cap_check(20_001)
    services.row_cap_check(20_000)


def test_verify_accepts_the_whole_code_or_the_printed_sixteen_characters(employer, agent):
    snapshot = issue(employer, agent, rows(2))

    def found(number, code):
        verified = documents.document_verify(number=number, code=code)
        return verified.snapshot if verified else None

    assert found(snapshot.number, snapshot.code) == snapshot
    assert found(snapshot.number, snapshot.code[:16].upper()) == snapshot
    assert found(snapshot.number, snapshot.code[:15]) is None
    wrong = ("0" if snapshot.code[0] != "0" else "1") + snapshot.code[1:]
    assert found(snapshot.number, wrong) is None
    assert found("PZ" + snapshot.number[2:], snapshot.code) is None


def test_snapshot_rows_cannot_be_changed_in_the_database(employer, agent):
    from django.db import DatabaseError, transaction

    snapshot = issue(employer, agent, rows(1))
    with pytest.raises(DatabaseError), transaction.atomic():
        ListPrint.objects.filter(pk=snapshot.pk).update(row_count=99)
    with pytest.raises(DatabaseError), transaction.atomic():
        ListPrint.objects.filter(pk=snapshot.pk).delete()


def test_admin_lists_searches_and_filters_prints_read_only(client, employer, agent, other_employer):
    from django.urls import reverse

    from employers.models import User
    from tests import factories

    mine = issue(employer, agent, rows(2))
    theirs = issue(other_employer, factories.make_agent(other_employer, login_name="jbr02"), rows(1))
    factories.login_as(client, factories.make_user(role=User.Role.ADMIN, login_name="gly01", is_staff=True, is_superuser=True))
    url = reverse("admin:gjj_portal_listprint_changelist")
    body = client.get(url).content.decode()
    assert mine.number in body and theirs.number in body and "记录条数" in body and "打印人" in body
    body = client.get(url, {"q": employer.account_no}).content.decode()
    assert mine.number in body and theirs.number not in body
    assert theirs.number not in client.get(url, {"kind__exact": "journal"}).content.decode()
    detail = client.get(reverse("admin:gjj_portal_listprint_change", args=[mine.pk])).content.decode()
    assert "开户日期自 2026-01-01" in detail and "职工1" not in detail  # the rows stay out of the admin
    assert client.get(reverse("admin:gjj_portal_listprint_add")).status_code == 403
    assert client.post(reverse("admin:gjj_portal_listprint_delete", args=[mine.pk])).status_code == 403
