"""The reports show each top customer's predicted CLV with its 90% interval."""

from __future__ import annotations

import openpyxl

from clvcli.contract import INTERVAL_COLUMNS
from tests.report.test_markdown import cells, tables


def test_the_top_customers_carry_their_intervals(shop_en):
    top = shop_en.data.top
    assert list(top.columns[-3:]) == ["predicted_clv_lower", "predicted_clv_upper", "total_clv"]
    assert (top["predicted_clv_lower"] <= top["predicted_clv"]).all()
    assert (top["predicted_clv"] <= top["predicted_clv_upper"]).all()
    assert (top["predicted_clv_upper"] > top["predicted_clv_lower"]).all()


def test_markdown_shows_the_interval_beside_predicted_clv(shop_en):
    text = shop_en.md.read_text(encoding="utf-8")
    assert "Their predicted CLV comes with its 90% interval" in text
    headers = [cells(t[0]) for t in tables(text)]
    top = next(h for h in headers if h[0] == "Customer")
    at = top.index("Predicted CLV")
    assert top[at + 1 : at + 3] == ["Predicted CLV, interval low", "Predicted CLV, interval high"]


def test_html_in_both_languages_names_the_interval(shop_en, shop_fa):
    assert "Predicted CLV, interval high" in shop_en.html.read_text(encoding="utf-8")
    page = shop_fa.html.read_text(encoding="utf-8")
    assert "کران بالای ارزش پیش‌بینی‌شده" in page and "بازه ۹۰٪" in page


def test_the_workbook_has_every_interval_column(shop_en):
    sheet = openpyxl.load_workbook(shop_en.xlsx)["customers"]
    names = [cell.value for cell in sheet[1]]
    assert [name for name in names if name in INTERVAL_COLUMNS] == INTERVAL_COLUMNS
