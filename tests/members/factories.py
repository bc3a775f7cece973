"""Factories for the member businesses and the 清册 engine tests (plain functions, keyword overrides)."""

import io
from datetime import date

from openpyxl import Workbook

from approvals import registry
from approvals.models import Batch
from approvals.services import batch_line_add, batch_open
from tests.factories import valid_id_number

REGISTER_HEADERS = ["姓名", "证件类型", "证件号码", "手机号码", "缴存基数", "单位缴存比例", "个人缴存比例", "起缴年月"]


def cjk_name(prefix: str, n: int) -> str:
    """A name the name rule accepts (a name holds no digits): the number in Chinese numerals, 职工一二."""
    return prefix + str(n).translate(str.maketrans("0123456789", "〇一二三四五六七八九"))


def register_row(**kw) -> dict[str, str]:
    row = {"name": "张三", "id_type": "居民身份证", "id_number": valid_id_number(), "phone": "13904770001", "base": "6000.00",
           "employer_rate": "12%", "member_rate": "12%", "start_period": "2026-01"}
    row.update(kw)
    return row


def xlsx(headers: list[str], rows: list[list], *, text_columns: tuple[int, ...] = ()) -> bytes:
    """A workbook as an agent would fill it in; values are written as given (strings stay strings)."""
    wb = Workbook()
    ws = wb.active
    ws.title = "清册"
    ws.append(headers)
    for row in rows:
        ws.append(row)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def register_file(rows: list[dict]) -> bytes:
    keys = ["name", "id_type", "id_number", "phone", "base", "employer_rate", "member_rate", "start_period"]
    return xlsx(REGISTER_HEADERS, [[r.get(k, "") for k in keys] for r in rows])


def make_batch(agent, code: str = "member_register", *, rows: list[dict] | None = None) -> Batch:
    registry.get(code)
    batch = batch_open(employer=agent.employer, agent=agent, business_code=code)
    for row in rows or []:
        batch_line_add(batch=batch, agent=agent, row=row)
    return batch


def month(year: int, mon: int) -> date:
    return date(year, mon, 1)
