"""SEC-38: a member's full ID number and phone appear on no page the portal serves: the agent's pages (full
and htmx), the export, the 清册, the admin and the printed PDF show them masked. (There is no reveal page.)"""

import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from gjj_portal.crypto import mask_id, mask_phone
from tests.factories import make_member, valid_id_number
from tests.members.factories import make_batch, register_row
from tests.printing.test_query_prints import printed

pytestmark = pytest.mark.django_db
HX = {"HX-Request": "true"}


def test_no_page_export_admin_or_print_shows_a_full_id_or_phone(agent, agent_client, employer, center_admin_client):
    number, phone = valid_id_number(), "13904779876"
    member = make_member(employer, name="隐私职工", id_number=number, phone=phone)
    waiting = register_row(name="待开户职工")
    batch = make_batch(agent, rows=[waiting])
    secrets = [number, phone, waiting["id_number"], waiting["phone"]]

    bodies = {}
    for name, args, headers in [
        ("home", [], {}), ("members:query", [], {}), ("members:query", [], HX), ("members:change-query", [], {}),
        ("members:status-query", [], {}), ("approvals:business", ["base_adjust"], {}), ("approvals:business", ["member_seal"], {}),
        ("approvals:batch-detail", [batch.pk], {}), ("approvals:batch-detail", [batch.pk], HX),
    ]:
        response = agent_client.get(reverse(name, args=args), headers=headers, follow=True)
        assert response.status_code == 200, name
        bodies[f"{name}{' (htmx)' if headers else ''}"] = response.content.decode()
    export = load_workbook(io.BytesIO(agent_client.get(reverse("members:query-export")).getvalue()), read_only=True)
    bodies["导出"] = " ".join(str(cell) for sheet in export.worksheets for row in sheet.iter_rows(values_only=True) for cell in row)
    bodies["打印"] = printed(agent_client, "members:query-print")
    for name, args in [("admin:members_member_changelist", []), ("admin:members_member_change", [member.pk]),
                       ("admin:approvals_batchline_changelist", [])]:
        response = center_admin_client.get(reverse(name, args=args))
        assert response.status_code == 200, name
        bodies[name] = response.content.decode()

    for where, body in bodies.items():
        for secret in secrets:
            assert secret not in body, f"{where} shows {secret[:4]}…"
    assert mask_id(number) in bodies["members:query"] and mask_id(number) in bodies["导出"] and mask_id(number) in bodies["打印"]
    assert mask_phone(waiting["phone"]) in bodies["approvals:batch-detail"]
