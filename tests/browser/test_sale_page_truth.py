"""The sale page says what the server decided, in chromium through nginx (issue 21):
a confirmed order stays on the page through a pause, a resume and the sale selling
out; the page opens the sale when the server does, not when the browser's clock says
so; a pause's words go when the pause does; a restock reaches the stock's words."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone
from playwright.sync_api import Page, expect

from orders.buy import decision
from sales import services
from tests.factories import make_sale
from tests.support.product import Product


def test_a_confirmed_order_stays_through_a_pause_and_the_sell_out(
    site: Page, product: Product, owner: Any
) -> None:
    sale = make_sale(owner, live=True, product_name="Console", quantity=2)
    site.goto(f"{product.url}/sales/{sale.pk}/")
    expect(site.locator("#sale")).to_have_attribute("data-status", "live")

    site.click("#buy")

    receipt = site.locator("#receipt")
    expect(receipt).to_be_visible()
    expect(receipt).to_contain_text("1 × Console")
    order_id = site.locator("#sale").get_attribute("data-receipt")
    assert order_id and len(order_id) == 36
    expect(receipt).to_contain_text(order_id)

    services.sale_pause(sale_id=sale.pk)
    expect(site.locator("#message")).to_have_text("The sale is paused for a moment.")
    expect(site.locator("#countdown")).to_have_text("")  # not "On sale now" above the pause
    expect(site.locator("#buy")).to_be_disabled()
    expect(receipt).to_contain_text(order_id)

    services.sale_resume(sale_id=sale.pk)
    expect(site.locator("#buy")).to_be_enabled()
    expect(site.locator("#message")).to_have_text("")  # the pause's words went with it
    expect(site.locator("#countdown")).to_have_text("On sale now")

    last = decision.buy(sale_id=sale.pk, user_id="someone-else", quantity=1, idempotency_key="last")
    assert last.outcome in ("accepted", "accepted_pending")
    expect(site.locator("#sale")).to_have_attribute("data-status", "sold_out")
    expect(site.locator("#message")).to_have_text("Sold out: every unit has been sold.")
    expect(receipt).to_be_visible()
    expect(receipt).to_contain_text(order_id)


def test_the_sale_opens_by_the_servers_clock_not_the_browsers(
    site: Page, product: Product, owner: Any
) -> None:
    now = timezone.now()
    sale = make_sale(owner, starts_at=now + timedelta(hours=1), ends_at=now + timedelta(hours=3))
    services.sale_schedule(sale_id=sale.pk)
    site.clock.set_system_time(now + timedelta(hours=2))  # this browser's clock is two hours fast

    site.goto(f"{product.url}/sales/{sale.pk}/")

    expect(site.locator("#countdown")).to_contain_text("Starts in 0:59:")  # the server's hour to go
    expect(site.locator("#buy")).to_be_disabled()
    site.wait_for_timeout(1_500)  # a tick and a countdown step later: still the server's word
    expect(site.locator("#sale")).to_have_attribute("data-status", "scheduled")
    expect(site.locator("#buy")).to_be_disabled()


def test_a_restock_reaches_the_stock_words(site: Page, product: Product, owner: Any) -> None:
    sale = make_sale(owner, live=True, quantity=20)
    decision.buy(sale_id=sale.pk, user_id="early", quantity=1, idempotency_key="early")
    site.goto(f"{product.url}/sales/{sale.pk}/")
    expect(site.locator("#stock-words")).to_have_text("19 of 20 left")

    services.sale_restock(sale_id=sale.pk, units=5)

    expect(site.locator("#stock-words")).to_have_text("24 of 25 left")  # the next tick, no reload
    expect(site.locator("#stock")).to_have_attribute("max", "25")
