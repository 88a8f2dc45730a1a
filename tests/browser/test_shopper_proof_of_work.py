"""The proof of work in chromium, through nginx, CSRF on: the page of a sale that asks
one solves its challenge as it loads and gets its shopper cookie before the shopper
clicks; Buy buys. The waiting room of such a sale, opened without a cookie, proves
first and then takes the shopper's place. The cookie carries the bits it cost."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Page, expect

from orders.buy import identity
from tests.factories import make_sale
from tests.support.product import Product

BITS = 16  # the default: the same work a shopper's page does


def shopper_cookie(site: Page) -> tuple[str, int] | None:
    for cookie in site.context.cookies():
        if cookie["name"] == identity.SHOPPER_COOKIE:
            return identity.shopper_cookie_read(cookie["value"])
    return None


def test_the_sale_page_proves_then_buys(site: Page, product: Product, owner: Any) -> None:
    sale = make_sale(owner, live=True, product_name="Console", quantity=5, proof_bits=BITS)
    site.goto(f"{product.url}/sales/{sale.pk}/")
    expect(site.locator("#sale")).to_have_attribute("data-proof", "proven", timeout=30_000)
    found = shopper_cookie(site)
    assert found is not None and found[1] == BITS

    site.click("#buy")

    expect(site.locator("#sale")).to_have_attribute("data-outcome", "accepted")
    expect(site.locator("#message")).to_contain_text("You got it!")


def test_a_click_before_the_proof_is_done_waits_for_it(site: Page, product: Product, owner: Any) -> None:
    """Clicked at once: the page shows that it checks the browser, then buys."""
    sale = make_sale(owner, live=True, product_name="Console", quantity=5, proof_bits=20)
    site.goto(f"{product.url}/sales/{sale.pk}/")
    site.click("#buy")
    expect(site.locator("#sale")).to_have_attribute("data-outcome", "accepted", timeout=60_000)
    found = shopper_cookie(site)
    assert found is not None and found[1] == 20


def test_the_waiting_room_proves_then_takes_a_place(site: Page, product: Product, owner: Any) -> None:
    sale = make_sale(owner, live=True, product_name="Console", quantity=5, proof_bits=BITS, admission_rate=1)
    site.goto(f"{product.url}/waiting-room/{sale.pk}/")
    # The page proves, reloads, and is in line: a place of its own, from the server.
    expect(site.locator("#room")).to_have_attribute("data-place", "waiting", timeout=30_000)
    expect(site.locator("#place")).not_to_have_text("…")
    found = shopper_cookie(site)
    assert found is not None and found[1] == BITS
