"""gjj_portal.table_rows: a long list's rows written in Python escape every cell, as the template did."""

from gjj_portal.table_rows import MONEY, html_rows


def test_every_cell_is_escaped_and_the_money_columns_are_classed():
    rows = html_rows([("60000100001", "<b>张&三</b>", "1,234.00")], ("", "", MONEY))
    assert rows == '<tr><td>60000100001</td><td>&lt;b&gt;张&amp;三&lt;/b&gt;</td><td class="money">1,234.00</td></tr>'


def test_no_rows_is_empty():
    assert html_rows([], ("", MONEY)) == ""
