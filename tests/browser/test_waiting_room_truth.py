"""The waiting room says what the server decided (issue 21, problems 4 and 5), in
chromium through nginx: no more shoppers are told "it's your turn" than there are
units for them; after a reload the room keeps its progress and its estimate (they
come from the server's ticket and rate); it names the product; and its live region
speaks when the state changes, not with every second of a turn's countdown."""

from __future__ import annotations

import time
from typing import Any

from playwright.sync_api import Browser, Page, expect

from tests.factories import make_sale
from tests.support.product import Product
from waitingroom.queue import queue_join, queue_present


def test_no_more_turns_than_units_left(site: Page, product: Product, owner: Any, browser: Browser) -> None:
    sale = make_sale(owner, live=True, product_name="Watch", quantity=1, admission_rate=10)
    other_context = browser.new_context()
    try:
        site.goto(f"{product.url}/waiting-room/{sale.pk}/")
        expect(site.locator("#heading")).to_have_text("It's your turn!", timeout=10_000)
        other = other_context.new_page()
        other.goto(f"{product.url}/waiting-room/{sale.pk}/")
        # One unit, one turn out: the second shopper waits, at ten admissions a second.
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            assert other.locator("#room").get_attribute("data-state") != "admitted"
            other.wait_for_timeout(200)
        site.click("#buy")
        expect(site.locator("#receipt")).to_contain_text("1 × Watch")
        expect(other.locator("#heading")).to_have_text("Sold out", timeout=10_000)
    finally:
        other_context.close()


def test_a_reload_keeps_the_progress_and_the_estimate(site: Page, product: Product, owner: Any) -> None:
    sale = make_sale(owner, live=True, product_name="Guitar", quantity=50, admission_rate=1)
    for n in range(10):  # shoppers ahead, their pages there: let in one a second
        queue_join(sale_id=sale.pk, shopper=f"ahead-{n}")
        queue_present(sale_id=sale.pk, shopper=f"ahead-{n}")
    site.goto(f"{product.url}/waiting-room/{sale.pk}/")
    expect(site.locator("#product")).to_contain_text("Guitar")
    expect(site.get_by_role("progressbar", name="Progress through the line")).to_be_visible()
    # Some let in since. The page hears of it with each update, which may bring
    # two admissions at once: wait for a count some way below ten, not for one number.
    site.wait_for_function(
        "() => { const n = Number(document.getElementById('ahead').textContent); return n > 0 && n < 8; }",
        timeout=15_000,
    )
    before = int(site.locator("#progress").get_attribute("value") or 0)
    assert before > 0

    site.reload(wait_until="domcontentloaded")
    # Drawn from the server's ticket, people ahead and rate, before any update arrives.
    assert site.locator("#wait").inner_text() != "unknown"
    assert int(site.locator("#progress").get_attribute("value") or 0) >= before


def test_the_live_region_speaks_when_the_state_changes(site: Page, product: Product, owner: Any) -> None:
    sale = make_sale(owner, live=True, product_name="Drone", quantity=5, admission_rate=5)
    site.goto(f"{product.url}/waiting-room/{sale.pk}/")
    expect(site.locator("#heading")).to_have_text("It's your turn!", timeout=10_000)
    expect(site.locator("#buy")).to_be_focused()
    site.evaluate(
        """() => {
          window.__spoken = 0; window.__ticks = 0;
          new MutationObserver(() => window.__spoken++).observe(
            document.getElementById("message"), {childList: true, characterData: true, subtree: true});
          new MutationObserver(() => window.__ticks++).observe(
            document.getElementById("turn"), {childList: true, characterData: true, subtree: true});
        }"""
    )
    site.wait_for_timeout(3500)
    assert site.evaluate("window.__ticks") >= 3  # the countdown moved...
    assert site.evaluate("window.__spoken") == 0  # ... and the live region kept still
    assert site.locator("#turn").get_attribute("aria-live") is None
