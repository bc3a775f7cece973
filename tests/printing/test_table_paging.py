"""A long list print is paginated by row heights and each page's rows are wrapped only when that page is drawn (issue 18
item 4): the items of 20,000 rows were 80 MB kept at once. The bytes are those of wrapping everything first."""

import pytest

from gjj_portal.printing import table
from gjj_portal.printing.table import Column

COLUMNS = [["个人账号", 30, "l"], ["姓名", 30, "l"], ["备注", 20, "l"], ["金额", 30, "r"]]


def content(n: int) -> dict:
    return {
        "title": "缴存人账户信息", "center_name": "鄂尔多斯市住房公积金中心", "seal_text": "鄂尔多斯市住房公积金中心 业务专用章",
        "employer_name": "测试单位", "employer_account_no": "900001", "filters": [], "columns": COLUMNS,
        "rows": [[f"2000{i:06d}", f"职工{i}", "很长的备注需要折行显示在两行" * (i % 3), f"{1000 + i}.50"] for i in range(n)],
        "totals": [["金额", "1.00"]], "printed_at": "2026-12-03 12:00:00",
    }


def test_rows_are_wrapped_page_by_page(monkeypatch):
    drawn, made = [], []
    real_item, real_draw = table.Grid.item, table.Grid.draw

    def item(self, kind, cells):
        made.append(kind)
        return real_item(self, kind, cells)

    def draw(self, c, top, items, **kwargs):
        drawn.append((len(made), len(items)))
        return real_draw(self, c, top, items, **kwargs)

    monkeypatch.setattr(table.Grid, "item", item)
    monkeypatch.setattr(table.Grid, "draw", draw)
    pdf = table.render_table(content(600), number="DY20261203000001", code="a" * 64, base_url="http://testserver/")
    assert pdf.startswith(b"%PDF") and len(drawn) > 5
    wrapped = 1  # the header row, wrapped once with the grid
    for made_before, count in drawn:  # before a page is drawn, only the rows of the pages so far were wrapped
        wrapped += count
        assert made_before <= wrapped
    assert made.count("row") == 600 + 1 and max(count for _, count in drawn) < 600


@pytest.mark.parametrize("n", [0, 1, 45])
def test_heights_agree_with_the_wrapped_items(n):
    layout = table._Layout(content(n), "DY1")
    for row in layout.rows():
        item = layout.items([row])[0]
        assert item.height == row.height and item.kind == row.kind


def test_a_cell_with_a_line_break_or_too_wide_counts_its_lines():
    grid = table.Grid([Column("a", 20), Column("b", 20)], left=0, room=200)
    cells = ["一行", "第一行\n第二行"]
    assert grid.height(cells) == grid.item("row", cells).height
    wide = ["很" * 60, "x"]
    assert grid.height(wide) == grid.item("row", wide).height > grid.height(["短", "x"])
