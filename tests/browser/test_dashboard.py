"""The live dashboard in a real browser, through nginx, with the whole product
running (its ticker is `manage.py run_dashboard` under supervisord): a merchant
opens a sale's dashboard from the sale's page, a crowd buys through the buy API,
the numbers and the charts move without a reload and agree with `reconcile` once
the orders are persisted; the controls (pause, rates, resume, restock, end with
its confirmation) take effect at once; another merchant and an anonymous socket
are refused. The picture in README ("Live dashboard") is taken here."""

from __future__ import annotations

import os
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from sales import keys
from tests.support.browser import ConsoleWatch, sign_in
from tests.support.product import Product
from tests.support.servers import ROOT, wait_for
from tests.support.shoppers import storefront

# README's picture: written to docs/ when asked (FLUX_DOCS_PICTURES=1), otherwise to
# test-results/, so that a test run does not leave the tree changed.
SCREENSHOT = (
    ROOT / "docs" / "dashboard.png"
    if os.environ.get("FLUX_DOCS_PICTURES") == "1"
    else ROOT / "test-results" / "dashboard.png"
)
DESKTOP = {"width": 1400, "height": 900}


def crowd(product: Product, sale_id: int, shop: Any, seconds: float) -> list[str]:
    """Shoppers buying through nginx from 6 threads for about `seconds`, and on until
    someone is told sold out (at most 30 s: a shopper who bought still spends tokens
    of the bucket on limit_reached, so the last units can take longer on a slow
    machine): each thread cycles through 12 shoppers, so a shopper comes back
    (limit reached, or sold out). Returns every answer's status."""
    answers: list[str] = []
    lock = threading.Lock()
    started = time.monotonic()

    def going_on() -> bool:
        elapsed = time.monotonic() - started
        return elapsed < seconds or ("sold_out" not in answers and elapsed < 30)

    def shopper_loop(thread: int) -> None:
        n = 0
        while going_on():
            ref = f"t{thread}-{n % 12}"
            status, body = product.buy(sale_id, None, uuid.uuid4().hex, headers=shop.headers(ref))
            with lock:
                answers.append(body.get("status", str(status)))
            n += 1
            time.sleep(0.03)

    with ThreadPoolExecutor(6) as pool:
        list(pool.map(shopper_loop, range(6)))
    return answers


def page_points(page: Page) -> list[dict]:
    return page.evaluate("window.fluxDashboard.points")


def chart_series(page: Page, chart: str) -> list[list]:
    return page.evaluate(f"window.fluxDashboard.charts['{chart}'].plot.data")


def test_a_merchant_watches_the_rush_and_steers_it(
    site: Page, product: Product, owner: Any, redis_conn: Any
) -> None:
    from orders.reconcile import sale_reconcile_until_settled
    from tests.factories import make_sale

    sale = make_sale(
        owner, live=True, product_name="Flux phone", quantity=60, per_user_limit=1, rate=25, burst=10,
        admission_rate=5,
    )  # fmt: skip
    shop = storefront(owner)
    site.set_viewport_size(DESKTOP)
    sign_in(site, product, owner.username)

    # From the console's home to the overview, and from the sale's page to its dashboard.
    site.get_by_role("link", name="Live dashboard").click()
    expect(site.locator(f'#overview-sales tr[data-sale-id="{sale.pk}"]')).to_contain_text("Flux phone")
    site.goto(f"{product.url}/admin/sales/sale/{sale.pk}/change/")
    site.get_by_role("link", name="Live dashboard").click()
    site.wait_for_url(f"{product.url}/admin/sales/sale/{sale.pk}/dashboard/")
    expect(site.locator("#dash-connection")).to_have_text("connected")
    expect(site.locator("#dash-updated")).not_to_have_text("—")  # the first tick arrived
    expect(site.locator("#tile-remaining")).to_have_text("60 of 60")

    # The rush, while the page stays where it is (no reload: the same document throughout).
    site.evaluate("window.__sameDocument = true")
    answers = crowd(product, sale.pk, shop, seconds=6)
    accepted = sum(1 for status in answers if status in ("accepted", "accepted_pending"))
    assert accepted == 60, answers
    assert "sold_out" in answers and "rate_limited" in answers

    expect(site.locator("#tile-remaining")).to_have_text("0 of 60")
    expect(site.locator("#tile-sold")).to_have_text("60")
    expect(site.locator("#dash-status")).to_have_text("sold out")
    assert site.evaluate("window.__sameDocument") is True

    # The charts drew the rush: accepted orders per second, refusals by reason, units sold.
    # The processes add what they answered from memory (sold out) to Redis once a second,
    # and the dashboard draws it at its next tick: wait for that tick, do not race it.
    for series in (1, 2, 3):
        site.wait_for_function(
            f"window.fluxDashboard.charts['chart-orders'].plot.data[{series}].some(v => v > 0)",
            timeout=10_000,
        )
    orders = chart_series(site, "chart-orders")
    assert max(v for v in orders[1] if v is not None) > 0  # accepted /s
    assert max(v for v in orders[2] if v is not None) > 0  # sold out /s
    assert max(v for v in orders[3] if v is not None) > 0  # sent to the queue /s
    assert max(chart_series(site, "chart-stock")[1]) == 60  # units sold reached the stock
    assert any(v is not None for v in chart_series(site, "chart-latency")[2])  # p99 drawn

    # At the end the page agrees with reconcile: everything sold is persisted, no drift.
    books = sale_reconcile_until_settled(sale_id=sale.pk, seconds=30)
    assert books.settled and books.sold == 60 and books.units_persisted == 60
    expect(site.locator("#tile-persisted")).to_have_text("60 / 60")
    expect(site.locator("#tile-drift")).to_have_text("drift 0")
    expect(site.locator("#tile-anomalies")).to_have_text("0")
    expect(site.locator("#tile-lag")).to_have_text("0")

    def last_point_counts_everything() -> bool:
        last = page_points(site)[-1]
        return last["accepted_total"] == accepted and last["refused_total"] == len(answers) - accepted

    wait_for(last_point_counts_everything, 15, "the page's totals to equal the crowd's answers")
    site.screenshot(path=str(SCREENSHOT), full_page=True)

    # Restock: the sale offers more, and the page shows it by the next tick.
    site.fill("#dash-units", "5")
    site.get_by_role("button", name="Add units").click()
    expect(site.locator("#dash-message")).to_have_text("Restocked: the sale now offers 65 units.")
    expect(site.locator("#tile-remaining")).to_have_text("5 of 65")
    expect(site.locator("#dash-status")).to_have_text("live")

    # Pause: the very next buy is refused, and the page says so by the next tick.
    site.get_by_role("button", name="Pause", exact=True).click()
    expect(site.locator("#dash-message")).to_have_text("Paused: the sale is now paused.")
    status, body = product.buy(sale.pk, None, uuid.uuid4().hex, headers=shop.headers("late-1"))
    assert (status, body["status"]) == (409, "paused")
    expect(site.locator("#dash-status")).to_have_text("paused")
    expect(site.get_by_role("button", name="Pause", exact=True)).to_be_disabled()

    # The waiting room's admission rate and the bucket's rate: in Redis at once.
    site.fill("#dash-admission-rate", "12")
    site.fill("#dash-rate", "40")
    site.get_by_role("button", name="Apply rates").click()
    expect(site.locator("#dash-message")).to_have_text(
        "Rates applied: admission 12/s, bucket 40/s (burst 10)."
    )
    state = redis_conn.hmget(keys.state_key(sale.pk), "admission_rate", "rate")
    assert state == [b"12", b"40"]
    expect(site.locator("#tile-admissions")).to_contain_text("of 12/s")

    site.get_by_role("button", name="Resume", exact=True).click()
    expect(site.locator("#dash-message")).to_have_text("Resumed: the sale is now live.")
    expect(site.locator("#dash-status")).to_have_text("live")

    # End is final: dismissing the confirmation changes nothing; accepting it ends the sale.
    site.once("dialog", lambda dialog: dialog.dismiss())
    site.get_by_role("button", name="End sale").click()
    time.sleep(0.5)
    sale.refresh_from_db()
    assert sale.status != "ended"
    site.once("dialog", lambda dialog: dialog.accept())
    site.get_by_role("button", name="End sale").click()
    expect(site.locator("#dash-message")).to_have_text("Ended: the sale is now ended.")
    expect(site.locator("#dash-status")).to_have_text("ended")
    expect(site.get_by_role("button", name="Pause", exact=True)).to_be_disabled()
    sale.refresh_from_db()
    assert sale.status == "ended"

    # A reload brings the sale's history back.
    count_before = len(page_points(site))
    site.reload()
    expect(site.locator("#dash-connection")).to_have_text("connected")
    wait_for(lambda: len(page_points(site)) >= count_before, 10, "the history after a reload")
    assert max(chart_series(site, "chart-stock")[1]) == 60

    # The overview shows the sale's latest figures (an ended sale stays a minute).
    site.goto(f"{product.url}/admin/dashboard/")
    row = site.locator(f'#overview-sales tr[data-sale-id="{sale.pk}"]')
    expect(row.locator('[data-field="remaining"]')).to_have_text("5 of 65")
    expect(row.locator('[data-field="status"]')).to_have_text("ended")


def test_another_merchant_and_the_anonymous_cannot_watch(
    site: Page, product: Product, owner: Any, other_merchant: Any, console_errors: ConsoleWatch
) -> None:
    import websockets.sync.client
    from websockets.exceptions import InvalidStatus

    from tests.factories import make_sale

    sale = make_sale(owner, live=True, quantity=5)
    socket_url = f"ws://127.0.0.1:{product.port}/ws/dashboard/sales/{sale.pk}/"

    # An anonymous socket: the handshake is refused.
    with pytest.raises(InvalidStatus) as refused:
        websockets.sync.client.connect(socket_url, origin=product.url, open_timeout=10)
    assert refused.value.response.status_code == 403

    # Another merchant: the page is "not found", and its own socket is refused too.
    console_errors.allow("404")
    console_errors.allow("WebSocket connection")
    sign_in(site, product, other_merchant.username)
    response = site.goto(f"{product.url}/admin/sales/sale/{sale.pk}/dashboard/")
    assert response is not None and response.status == 404
    outcome = site.evaluate(
        """path => new Promise(resolve => {
            const socket = new WebSocket(`ws://${location.host}${path}`);
            socket.onopen = () => resolve("open");
            socket.onclose = () => resolve("refused");
        })""",
        f"/ws/dashboard/sales/{sale.pk}/",
    )
    assert outcome == "refused"
    cookies = {c["name"]: c["value"] for c in site.context.cookies()}
    with pytest.raises(InvalidStatus):
        websockets.sync.client.connect(
            socket_url,
            origin=product.url,
            additional_headers={"Cookie": f"sessionid={cookies['sessionid']}"},
            open_timeout=10,
        )
