"""A shopper's receipt comes from the server, in chromium through nginx (issue 21):
after a reload, a pause, the sell-out and the end, the sale page and the waiting
room still show the order the server accepted, and its receipt page opens from the
shopper's own browser, or from its signed link in any browser, and from no one
else's."""

from __future__ import annotations

import os
from typing import Any

from playwright.sync_api import Browser, Page, expect

from orders.buy import decision
from orders.models import Order
from sales import services
from tests.factories import make_sale
from tests.support.browser import ConsoleWatch
from tests.support.product import Product
from tests.support.servers import ROOT, wait_for

# README's picture of a receipt: docs/ when asked (FLUX_DOCS_PICTURES=1).
PICTURE = (
    ROOT / "docs" / "receipt.png"
    if os.environ.get("FLUX_DOCS_PICTURES") == "1"
    else ROOT / "test-results" / "receipt.png"
)


def _receipt_of(site: Page) -> Any:
    return site.locator("#receipt")


def test_a_receipt_survives_reload_pause_sell_out_and_end(
    site: Page, product: Product, owner: Any, console_errors: ConsoleWatch
) -> None:
    console_errors.allow("status of 410")  # the browser logs the ended sale's own 410 Gone
    sale = make_sale(owner, live=True, product_name="Console", quantity=2, unit_price="249.50")
    site.goto(f"{product.url}/sales/{sale.pk}/")
    expect(site.locator("#sale")).to_have_attribute("data-status", "live")
    site.click("#buy")
    expect(_receipt_of(site)).to_contain_text("1 × Console, 249.50 EUR")
    order_id = site.locator("#sale").get_attribute("data-receipt")
    assert order_id

    # A reload: the page draws the server's list of this shopper's orders.
    site.reload()
    expect(_receipt_of(site)).to_be_visible()
    expect(_receipt_of(site)).to_contain_text(order_id)
    expect(_receipt_of(site)).to_contain_text("1 × Console")

    services.sale_pause(sale_id=sale.pk)
    site.reload()
    expect(_receipt_of(site)).to_contain_text(order_id)
    services.sale_resume(sale_id=sale.pk)

    last = decision.buy(sale_id=sale.pk, user_id="someone-else", quantity=1, idempotency_key="last")
    assert last.outcome in ("accepted", "accepted_pending")
    site.reload()
    expect(site.locator("#sale")).to_have_attribute("data-status", "sold_out")
    expect(_receipt_of(site)).to_contain_text(order_id)
    expect(_receipt_of(site).locator("li")).to_have_count(1)  # the other shopper's order is not ours

    # Once the consumer has written it, the receipt says so.
    wait_for(lambda: Order.objects.filter(order_id=order_id).exists(), 20, "the order persisted")
    services.sale_end(sale_id=sale.pk)
    site.reload()
    expect(_receipt_of(site)).to_contain_text(f"Order {order_id}: 1 × Console, 249.50 EUR")
    expect(_receipt_of(site)).to_contain_text("confirmed.")
    site.set_viewport_size({"width": 900, "height": 560})
    site.screenshot(path=str(PICTURE), full_page=True)

    # The waiting room of the ended sale shows it too.
    site.goto(f"{product.url}/waiting-room/{sale.pk}/")
    expect(_receipt_of(site)).to_contain_text(order_id)


def test_the_receipt_page_opens_for_its_shopper_and_its_link_only(
    site: Page, product: Product, owner: Any, browser: Browser
) -> None:
    sale = make_sale(owner, live=True, product_name="Lamp", quantity=5, unit_price="12.00")
    site.goto(f"{product.url}/sales/{sale.pk}/")
    expect(site.locator("#sale")).to_have_attribute("data-status", "live")
    site.click("#buy")
    expect(_receipt_of(site)).to_be_visible()
    order_id = site.locator("#sale").get_attribute("data-receipt")

    site.click("#receipt a")
    expect(site.locator("#receipt-order")).to_have_text(order_id or "")
    expect(site.locator("#receipt-total")).to_have_text("12.00 EUR")
    link = site.locator("#receipt-link").get_attribute("href") or ""
    assert f"/sales/{sale.pk}/orders/{order_id}/?k=" in link

    stranger = browser.new_context()
    try:
        other = stranger.new_page()
        # Without the link's signature, another browser (another shopper) gets nothing...
        unsigned = other.goto(f"{product.url}/sales/{sale.pk}/orders/{order_id}/")
        assert unsigned is not None and unsigned.status == 404
        forged = other.goto(f"{product.url}/sales/{sale.pk}/orders/{order_id}/?k=forged")
        assert forged is not None and forged.status == 404
        # ... and with it, the receipt, which is how it can be kept.
        kept = other.goto(link)
        assert kept is not None and kept.status == 200
        expect(other.locator("#receipt-order")).to_have_text(order_id or "")
        expect(other.locator("#receipt-page")).to_contain_text("Lamp")
    finally:
        stranger.close()
