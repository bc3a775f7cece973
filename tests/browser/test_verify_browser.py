"""验真 in a real browser (issue 12 item 8): a printed receipt's result is a two-column list whose labels
stay on one line, whose values stay inside the card (a long one wraps), with money as the PDF prints it."""

import pytest

from remittance import services
from remittance.models import Receipt
from tests.remittance.conftest import pay

pytestmark = pytest.mark.django_db(transaction=True)
SCREENSHOT = "/tmp/h1_verify.png"
LONG_NAME = "鄂尔多斯市康巴什区示例能源化工集团有限责任公司第二分公司（煤炭深加工与新能源综合利用示范基地项目部）"

# The height of each label's text over its line height (the cell itself is as tall as its row, which a
# long value may make taller), and whether any value or the card itself overflows.
MEASURE = """() => {
  const terms = [...document.querySelectorAll("dt")].map(el => {
    const style = getComputedStyle(el);
    const line = parseFloat(style.lineHeight) || parseFloat(style.fontSize) * 1.3;
    const text = document.createRange();
    text.selectNodeContents(el);
    return {text: el.textContent, lines: text.getBoundingClientRect().height / line};
  });
  const overflowing = [...document.querySelectorAll("dd, section")]
    .filter(el => el.scrollWidth > el.clientWidth + 1).map(el => el.textContent.slice(0, 20));
  const card = document.querySelector("section").getBoundingClientRect();
  const outside = [...document.querySelectorAll("dd")]
    .filter(el => el.getBoundingClientRect().right > card.right + 1).map(el => el.textContent.slice(0, 20));
  return {terms, overflowing, outside};
}"""


def _look(page) -> dict:
    measured = page.evaluate(MEASURE)
    assert measured["terms"], "no result list on the page"
    for term in measured["terms"]:
        assert term["lines"] <= 1.6, f"label {term['text']!r} wraps over {term['lines']:.1f} lines"
    assert measured["overflowing"] == [] and measured["outside"] == []
    return measured


def test_verify_page_shows_a_printed_receipt_in_two_columns(page, employer):
    employer.name = LONG_NAME
    employer.save()
    pay(employer, "79446.00")
    receipt = services.receipt_issue(kind=Receipt.Kind.PAYMENT, employer=employer, entry=employer.journal_entries.get(kind="payment"))

    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto("/receipt/verify/")
    page.get_by_label("凭证编号").fill(receipt.number)
    page.get_by_label("查验码").fill(receipt.code[:16].upper())
    page.get_by_role("button", name="查询").click()
    page.get_by_text("验证通过").wait_for()
    page.screenshot(path=SCREENSHOT, full_page=True)

    measured = _look(page)
    labels = [term["text"] for term in measured["terms"]]
    assert labels[:4] == ["凭证类型", "凭证编号", "单位名称", "单位账号"] and "金额（元）" in labels
    assert page.get_by_role("definition").filter(has_text="79,446.00").count() == 1
    assert page.get_by_text("79446.00").count() == 0
    # the long name wraps inside its cell, on the row of its one-line label
    name = page.get_by_role("definition").filter(has_text=LONG_NAME[:10]).bounding_box()
    label = page.get_by_role("term").filter(has_text="单位名称").bounding_box()
    one_line = page.get_by_role("definition").filter(has_text=receipt.number).bounding_box()
    assert name["height"] > 1.5 * one_line["height"]
    assert name["y"] == pytest.approx(label["y"], abs=1) and name["x"] > label["x"] + label["width"] - 1

    # on a phone the labels still stay on one line and nothing spills out
    page.set_viewport_size({"width": 375, "height": 800})
    page.screenshot(path=SCREENSHOT.replace(".png", "_phone.png"), full_page=True)
    _look(page)
