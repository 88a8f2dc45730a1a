"""The fair start and the turn, as shoppers live them in chromium through nginx
(issue 21): shoppers who join a scheduled sale's line before the start see the
line's size, are drawn at the start and let in in the draw's order; a line is not
open before the merchant's time, and its page lets the shopper in then; and a turn
given before a pause is still the shopper's after it, with the time the server kept."""

from __future__ import annotations

import os
import re
from datetime import timedelta
from typing import Any

from django.utils import timezone
from playwright.sync_api import Browser, BrowserContext, Page, expect

from orders.buy import identity
from sales import services
from sales.models import Sale
from tests.factories import make_sale
from tests.support.browser import sign_in
from tests.support.product import Product
from tests.support.servers import ROOT, wait_for
from waitingroom.draw import drawn_order

# README's picture of the line before the start: docs/ when asked (FLUX_DOCS_PICTURES=1).
PICTURE = (
    ROOT / "docs" / "prequeue.png"
    if os.environ.get("FLUX_DOCS_PICTURES") == "1"
    else ROOT / "test-results" / "prequeue.png"
)


def _shopper_of(context: BrowserContext) -> str:
    cookie = next(c for c in context.cookies() if c["name"] == identity.SHOPPER_COOKIE)
    shopper = identity.shopper_of_cookie(cookie["value"])
    assert shopper is not None
    return shopper


def test_the_line_before_the_start_is_drawn_and_let_in_in_that_order(
    site: Page, product: Product, owner: Any, browser: Browser
) -> None:
    now = timezone.now()
    sale = make_sale(
        owner,
        product_name="Sneakers",
        quantity=5,
        admission_rate=1,
        starts_at=now + timedelta(seconds=12),
        ends_at=now + timedelta(hours=1),
    )
    services.sale_schedule(sale_id=sale.pk)
    others = [browser.new_context(), browser.new_context()]
    try:
        pages = [site, *(context.new_page() for context in others)]
        for page in pages:  # in this order: the order they joined
            page.goto(f"{product.url}/sales/{sale.pk}/")
            expect(page.locator("#line")).to_be_visible()
            expect(page.locator("#line")).to_contain_text("there is no need to be first")
            page.click("#join-line")
            expect(page.locator("#heading")).to_have_text("You are in line for the start")
        expect(site.locator("#line-size")).to_have_text("3")
        expect(site.locator("#message")).to_contain_text("put in a random order, once")
        expect(site.locator("#place")).to_be_hidden()  # no place before the draw: it has none yet
        site.set_viewport_size({"width": 900, "height": 460})
        site.screenshot(path=str(PICTURE), full_page=True)
        joined = [_shopper_of(page.context) for page in pages]

        # The start: the sweep takes the sale live, the admitter draws the line.
        wait_for(
            lambda: Sale.objects.get(pk=sale.pk).prequeue_draw is not None, 30, "the line drawn at the start"
        )
        record = Sale.objects.get(pk=sale.pk).prequeue_draw
        assert record is not None and record["entrants"] == 3
        expected = drawn_order(str(record["seed"]), joined)
        page_of = dict(zip(joined, pages, strict=True))

        # One a second, in the draw's order (not the join order): each turn comes while
        # the next drawn shopper still waits for theirs.
        for turn, shopper in enumerate(expected):
            expect(page_of[shopper].locator("#heading")).to_have_text("It's your turn!", timeout=15_000)
            for later in expected[turn + 1 :]:
                assert page_of[later].locator("#room").get_attribute("data-state") != "admitted"
        first = page_of[expected[0]]
        first.click("#buy")
        expect(first.locator("#receipt")).to_contain_text("1 × Sneakers")
    finally:
        for context in others:
            context.close()


def test_a_line_not_yet_open_lets_the_shopper_in_when_it_opens(
    site: Page, product: Product, owner: Any
) -> None:
    now = timezone.now()
    sale = make_sale(
        owner,
        product_name="Jacket",
        starts_at=now + timedelta(hours=1),
        ends_at=now + timedelta(hours=2),
        queue_opens_at=now + timedelta(seconds=4),
    )
    services.sale_schedule(sale_id=sale.pk)
    site.goto(f"{product.url}/sales/{sale.pk}/")
    expect(site.locator("#line-soon")).to_be_visible()
    expect(site.locator("#line-soon")).to_contain_text("The line for the start opens at")

    site.goto(f"{product.url}/waiting-room/{sale.pk}/")
    expect(site.locator("#soon h1")).to_have_text("The line opens soon")
    expect(site.locator("#message")).to_contain_text(f"{sale.queue_opens_at:%H:%M:%S} UTC")
    # The page loads again when the server said the line opens, and is in it.
    expect(site.locator("#heading")).to_have_text("You are in line for the start", timeout=15_000)
    expect(site.locator("#line-size")).to_have_text("1")


def test_a_turn_is_kept_through_a_pause_and_a_reload(site: Page, product: Product, owner: Any) -> None:
    sale = make_sale(owner, live=True, product_name="Camera", rate=1, burst=1, admission_rate=1, quantity=3)
    site.goto(f"{product.url}/waiting-room/{sale.pk}/")
    expect(site.locator("#heading")).to_have_text("It's your turn!", timeout=15_000)
    expect(site.locator("#turn")).to_contain_text("Buy within")
    expect(site.locator("#buy")).to_be_focused()  # the turn's button, for keyboards and readers

    services.sale_pause(sale_id=sale.pk)
    expect(site.locator("#room")).to_have_attribute("data-turn", "paused", timeout=10_000)
    expect(site.locator("#turn")).to_contain_text("The sale is paused: your turn is kept.")
    kept = site.locator("#turn").inner_text()
    left = int(re.search(r"You will have (\d+) s", kept).group(1))  # type: ignore[union-attr]
    site.wait_for_timeout(3000)  # the clock stands still while paused...
    site.reload()  # ... and a reload shows the server's time left, not a fresh turn
    expect(site.locator("#turn")).to_contain_text(f"You will have {left} s to buy when it resumes.")

    services.sale_resume(sale_id=sale.pk)
    expect(site.locator("#room")).to_have_attribute("data-turn", "running", timeout=10_000)
    after = int(re.search(r"Buy within (\d+) s", site.locator("#turn").inner_text()).group(1))  # type: ignore[union-attr]
    assert left - 5 <= after <= left
    site.click("#buy")
    expect(site.locator("#receipt")).to_contain_text("1 × Camera")


def test_the_merchant_sees_the_line_for_the_start_and_its_draw(
    site: Page, product: Product, owner: Any, browser: Browser
) -> None:
    now = timezone.now()
    sale = make_sale(
        owner, product_name="Tickets", starts_at=now + timedelta(seconds=15), ends_at=now + timedelta(hours=1)
    )
    services.sale_schedule(sale_id=sale.pk)
    shoppers = [browser.new_context(), browser.new_context()]
    try:
        for context in shoppers:
            page = context.new_page()
            page.goto(f"{product.url}/waiting-room/{sale.pk}/")
            expect(page.locator("#heading")).to_have_text("You are in line for the start")
        sign_in(site, product, owner.username)
        site.goto(f"{product.url}/admin/sales/sale/{sale.pk}/dashboard/")
        expect(site.locator("#tile-waiting-label")).to_have_text("Line for the start")
        expect(site.locator("#tile-waiting")).to_have_text("2")
        expect(site.locator("#tile-admissions")).to_contain_text("shuffled at the start")

        wait_for(lambda: Sale.objects.get(pk=sale.pk).prequeue_draw is not None, 30, "the line drawn")
        expect(site.locator("#tile-waiting-label")).to_have_text("Waiting room")
        site.goto(f"{product.url}/admin/sales/sale/{sale.pk}/change/")
        expect(site.locator(".field-line_drawn")).to_contain_text(
            "2 shoppers in line before the start, put in a random order at"
        )
    finally:
        for context in shoppers:
            context.close()
