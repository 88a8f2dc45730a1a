"""A merchant runs a sale from start to end with the admin's pages and buttons,
in a real browser through nginx: Add, Schedule, Go live, Pause, Resume, Restock,
End (confirmed), then reads the sale's orders and exports them as CSV."""

from __future__ import annotations

import csv
import io
import re
import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from tests.support.browser import sign_in
from tests.support.product import Product
from tests.support.servers import wait_for
from tests.support.shoppers import storefront


@pytest.fixture
def product(fresh_product: Product) -> Product:
    """This test adds a sale with the admin's form (a log entry): a product of its own."""
    return fresh_product


def press(page: Page, label: str, expect_message: str) -> None:
    """Press one of the sale page's buttons and wait for the message it leads to."""
    page.get_by_role("button", name=label, exact=True).click()
    expect(page.locator("ul.messagelist")).to_contain_text(expect_message)


def test_a_merchant_runs_a_sale_with_the_pages_buttons(site: Page, product: Product, owner: Any) -> None:
    from orders.models import Order
    from sales.models import Sale

    sign_in(site, product, owner.username)

    # Add: a draft, and the merchant lands on its page, where its buttons are.
    site.goto(f"{product.url}/admin/sales/sale/add/")
    starts, ends = timezone.now() + timedelta(hours=1), timezone.now() + timedelta(hours=3)
    site.fill("#id_product_name", "Browser phone")
    site.fill("#id_sku", "browser-phone")
    site.fill("#id_unit_price", "449.00")
    site.fill("#id_quantity", "5")
    for name, moment in (("starts_at", starts), ("ends_at", ends)):
        site.fill(f"#id_{name}_0", moment.strftime("%Y-%m-%d"))
        site.fill(f"#id_{name}_1", moment.strftime("%H:%M:%S"))
    site.get_by_role("button", name="Save", exact=True).click()
    site.wait_for_url(re.compile(r"/admin/sales/sale/\d+/change/"))
    sale = Sale.objects.get(merchant=owner, sku="browser-phone")
    assert site.url.endswith(f"/admin/sales/sale/{sale.pk}/change/")
    assert sale.status == "draft"

    press(site, "Schedule", "now scheduled")
    press(site, "Go live now", "now live")
    # Once live, the definition is fixed: no Save buttons, no editable fields.
    expect(site.get_by_role("button", name="Save", exact=True)).to_have_count(0)
    expect(site.locator("#id_quantity")).to_have_count(0)
    press(site, "Pause", "now paused")
    press(site, "Resume", "now live")

    # Shoppers buy through the one address while the merchant watches.
    accepted = []
    shop = storefront(owner)  # the merchant's shop, whose backend proves its shoppers
    for shopper in ("ann", "bob", "cy"):
        status, body = product.buy(sale.pk, None, uuid.uuid4().hex, headers=shop.headers(shopper))
        assert status == 200, body
        accepted.append(body["order_id"])

    site.get_by_role("link", name="Restock").click()
    site.fill("#id_units", "20")
    site.get_by_role("button", name="Restock").click()
    expect(site.locator("ul.messagelist")).to_contain_text("now offers 25 units")

    # End is final: the page asks first, and only the confirmation ends the sale.
    site.get_by_role("link", name="End sale").click()
    expect(site.locator("#content")).to_contain_text("End sale")
    site.get_by_role("button", name="Yes, end the sale").click()
    expect(site.locator("ul.messagelist")).to_contain_text("now ended")
    sale.refresh_from_db()
    assert sale.status == "ended"

    # The orders reach PostgreSQL (the consumer), and the sale's orders list shows them.
    wait_for(lambda: Order.objects.filter(sale=sale).count() == 3, 30, "the three orders to be persisted")
    site.locator(".object-tools").get_by_role("link", name="Orders", exact=True).click()
    rows = site.locator("#result_list tbody tr")
    expect(rows).to_have_count(3)
    with site.expect_download() as download_info:
        site.get_by_role("link", name="Export CSV").click()
    exported = list(csv.DictReader(io.StringIO(download_info.value.path().read_text())))
    assert sorted(row["order_id"] for row in exported) == sorted(accepted)

    # Once the books settle, the ended sale's page shows its final report.
    def report_shown() -> bool:
        site.goto(f"{product.url}/admin/sales/sale/{sale.pk}/change/")
        return site.locator("#final-report").count() == 1

    wait_for(report_shown, 30, "the final report on the sale's page")
    expect(site.locator("#final-report")).to_contain_text("3")
