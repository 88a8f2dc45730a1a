"""A shopper's journey in chromium, through nginx, with the whole product running
(the admitter admits and broadcasts every 0.5 s): the sale page buys; a shopper
the buy API turns away lands in the waiting room, watches its place move without
a reload (over the websocket), keeps its place through a refresh, is admitted and
buys with one click; and a sale that sells out tells the waiting page at once."""

from __future__ import annotations

import re
import socket
import time
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from orders.buy import decision
from sales import services
from tests.factories import make_sale
from tests.support.browser import ConsoleWatch
from tests.support.product import Product
from waitingroom.admission import admission_issue
from waitingroom.queue import queue_join, queue_present

# The sale page's fetch() is answered 429 (the waiting room) on purpose; chromium logs it.
RATE_LIMITED = "status of 429"


@pytest.fixture(autouse=True)
def websockets_ready(product: Product) -> None:
    """daphne listening: supervisord calls it running before it binds its port, and
    the product counts as started once nginx and web answer /healthz."""
    deadline = time.monotonic() + 20
    while True:
        try:
            socket.create_connection(("127.0.0.1", int(product.env["FLUX_WS_PORT"])), timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def shoppers_ahead(sale_id: int, count: int) -> list[str]:
    """Shoppers already waiting, their pages open (present): the admitter admits
    them first, one by one at the sale's admission rate."""
    shoppers = [f"ahead-{n}" for n in range(count)]
    for shopper in shoppers:
        queue_join(sale_id=sale_id, shopper=shopper)
        queue_present(sale_id=sale_id, shopper=shopper)
    return shoppers


def admission_of(sale_id: int, shopper: str, seconds: float = 10) -> str:
    """The shopper's admission token, once the running admitter admitted it."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        token = admission_issue(sale_id=sale_id, shopper=shopper)
        if token is not None:
            return token
        time.sleep(0.1)
    raise AssertionError(f"{shopper} was not admitted within {seconds} s")


def test_a_shopper_buys_on_the_sale_page(site: Page, product: Product, owner: Any) -> None:
    sale = make_sale(owner, live=True, product_name="Console", quantity=5)
    site.goto(f"{product.url}/sales/{sale.pk}/")
    expect(site.locator("h1")).to_have_text("Console")
    expect(site.locator("#stock-words")).to_have_text("5 of 5 left")

    site.click("#buy")

    expect(site.locator("#message")).to_contain_text("You got it!")
    expect(site.locator("#sale")).to_have_attribute("data-outcome", "accepted")
    expect(site.locator("#stock-words")).to_have_text("4 of 5 left")  # the next tick, no reload


def test_a_sale_not_yet_started_counts_down_with_buy_disabled(
    site: Page, product: Product, owner: Any
) -> None:
    now = timezone.now()
    sale = make_sale(owner, starts_at=now + timedelta(hours=1, seconds=30), ends_at=now + timedelta(hours=2))
    services.sale_schedule(sale_id=sale.pk)
    site.goto(f"{product.url}/sales/{sale.pk}/")
    expect(site.locator("#countdown")).to_contain_text("Starts in 1:00:")
    expect(site.locator("#buy")).to_be_disabled()


def test_a_shopper_waits_in_line_is_admitted_and_buys(
    site: Page, product: Product, owner: Any, console_errors: ConsoleWatch
) -> None:
    console_errors.allow(RATE_LIMITED)
    sale = make_sale(owner, live=True, quantity=10, admission_rate=1)
    shoppers_ahead(sale.pk, 3)  # someone waits: a newcomer goes to the back of the line
    site.goto(f"{product.url}/sales/{sale.pk}/")

    site.click("#buy")

    site.wait_for_url(f"{product.url}/waiting-room/{sale.pk}/")
    room = site.locator("#room")
    expect(room).to_have_attribute("data-live", "socket")
    ticket = room.get_attribute("data-ticket")
    expect(site.locator("#figures")).to_be_visible()
    expect(site.locator("#wait")).to_contain_text("about")
    # Moved by the updates, no reload: fewer than the 3 it joined behind. (One update a
    # second at one admission a second can show 2 then 0, so no single value is waited for.)
    expect(site.locator("#ahead")).to_have_text(re.compile(r"^[012]$"))

    site.reload()  # a refresh keeps the place
    expect(site.locator("#room")).to_have_attribute("data-ticket", ticket or "")

    expect(site.locator("#room")).to_have_attribute("data-state", "admitted", timeout=20_000)
    expect(site.locator("#heading")).to_have_text("It's your turn!")
    site.click("#buy")
    expect(site.locator("#room")).to_have_attribute("data-state", "bought")
    expect(site.locator("#heading")).to_have_text("You got it!")
    expect(site.locator("#message")).to_contain_text("is confirmed")


def test_sold_out_reaches_the_waiting_room_page(site: Page, product: Product, owner: Any) -> None:
    sale = make_sale(owner, live=True, quantity=1, admission_rate=1)
    first, *_ = shoppers_ahead(sale.pk, 4)
    site.goto(f"{product.url}/waiting-room/{sale.pk}/")
    expect(site.locator("#room")).to_have_attribute("data-live", "socket")

    bought = decision.buy(
        sale_id=sale.pk,
        user_id=first,
        quantity=1,
        idempotency_key="first",
        admission_token=admission_of(sale.pk, first),
    )
    assert bought.outcome in ("accepted", "accepted_pending")

    expect(site.locator("#room")).to_have_attribute("data-state", "sold_out", timeout=5_000)
    expect(site.locator("#heading")).to_have_text("Sold out")


def test_without_a_websocket_the_page_polls_and_still_moves(site: Page, product: Product, owner: Any) -> None:
    sale = make_sale(owner, live=True, quantity=10, admission_rate=1)
    shoppers_ahead(sale.pk, 2)
    site.route_web_socket("**/ws/**", lambda socket: socket.close())  # a proxy that drops websockets
    site.goto(f"{product.url}/waiting-room/{sale.pk}/")

    room = site.locator("#room")
    expect(room).to_have_attribute("data-live", "poll")
    expect(site.locator("#ahead")).to_have_text("0", timeout=10_000)  # moved by the polls
    expect(room).to_have_attribute("data-state", "admitted", timeout=10_000)


def test_a_pause_and_the_end_reach_the_waiting_room_page(site: Page, product: Product, owner: Any) -> None:
    sale = make_sale(owner, live=True, admission_rate=1)
    shoppers_ahead(sale.pk, 5)
    site.goto(f"{product.url}/waiting-room/{sale.pk}/")
    room = site.locator("#room")
    expect(room).to_have_attribute("data-live", "socket")

    services.sale_pause(sale_id=sale.pk)
    expect(room).to_have_attribute("data-state", "paused")
    expect(site.locator("#message")).to_contain_text("Your place is kept")

    services.sale_end(sale_id=sale.pk)
    expect(room).to_have_attribute("data-state", "ended")
    expect(site.locator("#heading")).to_have_text("This sale has ended")
