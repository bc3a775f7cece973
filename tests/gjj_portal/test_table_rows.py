"""gjj_portal.table_rows: a long list's rows written in Python escape every cell, as the template did."""

from gjj_portal.table_rows import MONEY, html_rows


def test_every_cell_is_escaped_and_the_money_columns_are_classed():
    rows = html_rows([("60000100001", "<b>张&三</b>", "1,234.00")], ("", "", MONEY))
    assert rows == '<tr><td>60000100001</td><td>&lt;b&gt;张&amp;三&lt;/b&gt;</td><td class="money">1,234.00</td></tr>'


def test_no_rows_is_empty():
    assert html_rows([], ("", MONEY)) == ""


def test_a_rows_url_is_the_one_reverse_gives():
    from django.urls import reverse

    from gjj_portal.table_rows import url_for_rows

    slip = url_for_rows("remittance:payment-slip")
    assert [slip(7), slip(123456)] == [reverse("remittance:payment-slip", args=[7]), reverse("remittance:payment-slip", args=[123456])]
    supplements = url_for_rows("remittance:member-supplements")
    assert supplements("60000100001") == reverse("remittance:member-supplements", args=["60000100001"])


def test_a_link_cell_escapes_its_href_and_text():
    from gjj_portal.table_rows import link

    assert link('/x?a=1&b="2"', "<b>打印</b>", new_tab=True) == (
        '<a href="/x?a=1&amp;b=&quot;2&quot;" target="_blank" rel="noopener">&lt;b&gt;打印&lt;/b&gt;</a>'
    )
    assert link("/y/", "查看") == '<a href="/y/">查看</a>'


def test_a_rows_url_after_the_pages_fixed_arguments():
    from django.urls import reverse

    from gjj_portal.table_rows import url_for_rows

    delete = url_for_rows("approvals:batch-line-delete", 12)
    assert delete(345) == reverse("approvals:batch-line-delete", args=[12, 345])
