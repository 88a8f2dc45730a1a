"""The waiting room page a shopper lands on (the buy API's 302) says the truth
about the sale, in words and in its HTTP status, for each state a sale can be in."""

from __future__ import annotations

import uuid
from typing import Any

from playwright.sync_api import Page, expect

from sales import services
from tests.factories import make_sale
from tests.support.browser import ConsoleWatch
from tests.support.product import Product
from tests.support.shoppers import storefront


def visit(page: Page, product: Product, sale_id: int) -> int:
    response = page.goto(f"{product.url}/waiting-room/{sale_id}/")
    assert response is not None
    return response.status


def test_a_live_sale_over_its_rate_shows_the_waiting_room(site: Page, product: Product, owner: Any) -> None:
    sale = make_sale(owner, live=True, rate=1, burst=1)
    assert visit(site, product, sale.pk) == 200
    # The heading moves with the queue (an empty line admits at once), so check
    # what the server rendered: the room, with this shopper's place in it.
    expect(site).to_have_title("Waiting room · Flux-Gate")
    expect(site.locator("#room")).to_have_attribute("data-place", "waiting")
    expect(site.locator("body")).not_to_contain_text("Sold out")


def test_a_sold_out_sale_says_so(site: Page, product: Product, owner: Any) -> None:
    sale = make_sale(owner, live=True, quantity=1)
    status, body = product.buy(sale.pk, None, uuid.uuid4().hex, headers=storefront(owner).headers("first"))
    assert status == 200, body
    assert visit(site, product, sale.pk) == 200
    expect(site.locator("body")).to_contain_text("Sold out")
    expect(site.locator("meta[http-equiv=refresh]")).to_have_count(0)


def test_an_ended_sale_says_so_with_410(
    site: Page, product: Product, owner: Any, console_errors: ConsoleWatch
) -> None:
    sale = make_sale(owner, live=True)
    services.sale_end(sale_id=sale.pk)
    console_errors.allow("status of 410")  # the browser logs the page's own 410
    assert visit(site, product, sale.pk) == 410
    expect(site.locator("body")).to_contain_text("This sale has ended")
    expect(site.locator("meta[http-equiv=refresh]")).to_have_count(0)


def test_an_unknown_sale_or_a_draft_is_not_found(
    site: Page, product: Product, owner: Any, console_errors: ConsoleWatch
) -> None:
    draft = make_sale(owner)
    console_errors.allow("status of 404")  # the browser logs the page's own 404
    for sale_id in (draft.pk, 987_654_321):
        assert visit(site, product, sale_id) == 404
        expect(site.locator("body")).to_contain_text("No such sale")
