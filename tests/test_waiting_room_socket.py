"""The waiting room's websocket (waitingroom/consumers.py) through the product's
ASGI application (origin check, cookies, routing) and the real channel layer
(Redis pub/sub): a page that connects receives every tick of its sale; its
shopper, proven by the signed fg_shopper cookie, is present while the socket is
open and gone once it closes; a forged cookie still watches the figures but
keeps nobody present; and the sold-out broadcast reaches every socket at once.

The admitter's side is the real one (queue_admit, then broadcast.publish), run
on a thread of its own as in its process."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis
from channels.testing import WebsocketCommunicator

from flux_admin.asgi import application
from orders.buy import decision
from sales import keys
from tests.factories import make_sale
from tests.support.queue import admit
from tests.support.shoppers import shopper_cookie
from waitingroom import fanout
from waitingroom.broadcast import publish
from waitingroom.queue import queue_admit, queue_join

# Committed rows: the admitter's tick runs on another thread.
pytestmark = pytest.mark.django_db(transaction=True)

ORIGIN = (b"origin", b"http://127.0.0.1")


def socket(
    sale_id: int, headers: dict[str, str] | None = None, page: str = "waiting-room"
) -> WebsocketCommunicator:
    """A page's websocket, as a browser on the product opens it (same origin)."""
    sent = [ORIGIN, *((name.lower().encode(), value.encode()) for name, value in (headers or {}).items())]
    return WebsocketCommunicator(application, f"/ws/{page}/{sale_id}/", headers=sent)


def tick(sale_id: int) -> None:
    """One admitter tick of the sale: admit, then broadcast its figures."""
    figures = queue_admit(sale_id=sale_id)
    assert figures is not None
    publish(sale_id, figures)


def run(scenario: Callable[[], Awaitable[None]]) -> None:
    """Run the scenario on an event loop of its own, in a thread: after the browser
    tests, Playwright's loop is still running in this one (asyncio.run refuses)."""
    with ThreadPoolExecutor(1) as thread:
        thread.submit(asyncio.run, scenario()).result()


def gone_since(client: redis.Redis, sale_id: int, shopper: str) -> float | None:
    """When the shopper's page was last seen (None: its websocket is open)."""
    return client.zscore(keys.queue_key(sale_id, "gone"), shopper)


def test_a_connected_page_receives_the_ticks_and_keeps_its_shopper_present(owner, redis_conn) -> None:
    sale = make_sale(owner, live=True, admission_rate=1)
    shopper, headers = shopper_cookie()
    queue_join(sale_id=sale.pk, shopper=shopper)
    assert gone_since(redis_conn, sale.pk, shopper) is not None  # joined, page not there yet

    async def scenario() -> None:
        page = socket(sale.pk, headers)
        connected, _ = await page.connect()
        assert connected
        assert gone_since(redis_conn, sale.pk, shopper) is None  # present
        for _ in range(3):
            await asyncio.to_thread(tick, sale.pk)
            message = await page.receive_json_from(timeout=3)
            assert message["type"] == "queue.tick"
            assert message["sale_id"] == sale.pk
            assert message["status"] == "live"
            assert set(message) >= {"serving", "waiting", "admission_rate", "admitted_per_s", "remaining"}
        await page.disconnect()

    run(scenario)
    assert gone_since(redis_conn, sale.pk, shopper) is not None  # its page closed: gone since now


def test_a_forged_cookie_watches_but_is_not_counted_present(owner, redis_conn) -> None:
    sale = make_sale(owner, live=True)
    victim, _ = shopper_cookie()
    queue_join(sale_id=sale.pk, shopper=victim)
    forged = {"Cookie": f"fg_shopper={victim}:not-our-signature"}

    async def scenario() -> None:
        page = socket(sale.pk, forged)
        connected, _ = await page.connect()
        assert connected  # the figures are public
        await asyncio.to_thread(tick, sale.pk)
        assert (await page.receive_json_from(timeout=3))["sale_id"] == sale.pk
        assert gone_since(redis_conn, sale.pk, victim) is not None  # not made present
        await page.disconnect()

    run(scenario)


def test_another_sites_page_cannot_open_the_socket(owner) -> None:
    sale = make_sale(owner, live=True)

    async def scenario() -> None:
        page = WebsocketCommunicator(
            application, f"/ws/waiting-room/{sale.pk}/", headers=[(b"origin", b"http://evil.example")]
        )
        connected, _ = await page.connect()
        assert not connected

    run(scenario)


def test_sold_out_reaches_every_connected_socket(owner, redis_conn) -> None:
    sale = make_sale(owner, live=True, quantity=1, admission_rate=50)
    token = admit(redis_conn, sale.pk, "alice")
    crowd = [shopper_cookie() for _ in range(20)]
    for shopper, _ in crowd:
        queue_join(sale_id=sale.pk, shopper=shopper)

    async def scenario() -> None:
        pages = [socket(sale.pk, headers) for _, headers in crowd]
        pages += [socket(sale.pk, page="sales") for _ in range(5)]  # sale pages watch too
        for page in pages:
            assert (await page.connect())[0]
        bought = await asyncio.to_thread(
            decision.buy,
            sale_id=sale.pk,
            user_id="alice",
            quantity=1,
            idempotency_key="k",
            admission_token=token,
        )
        assert bought.outcome in ("accepted", "accepted_pending")  # accepted either way
        await asyncio.to_thread(tick, sale.pk)
        statuses = [(await page.receive_json_from(timeout=3))["status"] for page in pages]
        assert statuses == ["sold_out"] * len(pages)
        for page in pages:
            await page.disconnect()

    run(scenario)


def test_a_second_tab_keeps_its_shopper_present_after_the_first_closes(
    owner, redis_conn, monkeypatch
) -> None:
    """Two tabs, one shopper: closing one marks the shopper gone (a reload looks the
    same); the process's next renewal of its open sockets says the shopper is there."""
    monkeypatch.setattr(fanout, "PRESENCE_RENEW_SECONDS", 0.0)  # renew at every tick
    sale = make_sale(owner, live=True, admission_rate=1)
    shopper, headers = shopper_cookie()
    queue_join(sale_id=sale.pk, shopper=shopper)

    async def scenario() -> None:
        first, second = socket(sale.pk, headers), socket(sale.pk, headers)
        assert (await first.connect())[0] and (await second.connect())[0]
        await first.disconnect()
        assert gone_since(redis_conn, sale.pk, shopper) is not None
        await asyncio.to_thread(tick, sale.pk)
        await second.receive_json_from(timeout=3)
        for _ in range(30):  # the renewal runs on a thread after the tick's writes
            if gone_since(redis_conn, sale.pk, shopper) is None:
                break
            await asyncio.sleep(0.1)
        assert gone_since(redis_conn, sale.pk, shopper) is None
        await second.disconnect()

    run(scenario)
    assert gone_since(redis_conn, sale.pk, shopper) is not None  # both closed: gone
