"""The dashboards' websockets (dashboard/consumers.py) through the product's ASGI
application (origin check, session cookie, routing) and the real channel layer:
the owner's socket gets the sale's history, then every tick the ticker sends; an
operator's too; another merchant's socket and an anonymous one are refused at
the handshake and never receive a point. The overview lists only the sales the
user may see."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.db import connections
from django.test import Client

from flux_admin.asgi import application
from tests.factories import make_sale
from tests.support.dashboard import tick, ticker

# Committed rows: the consumer reads the session and the sale over its own connection.
pytestmark = pytest.mark.django_db(transaction=True)

ORIGIN = (b"origin", b"http://127.0.0.1")


def session_cookie(user: Any | None) -> list[tuple[bytes, bytes]]:
    """The handshake's headers of a browser signed in to the admin as `user`."""
    if user is None:
        return [ORIGIN]
    client = Client()
    client.force_login(user)
    return [ORIGIN, (b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode())]


def socket(path: str, user: Any | None) -> WebsocketCommunicator:
    return WebsocketCommunicator(application, path, headers=session_cookie(user))


def run(scenario: Callable[[], Awaitable[None]]) -> None:
    """On an event loop of its own, in a thread (Playwright's loop may own this one).
    Then the consumers' database connections are closed on the thread that opened
    them (asgiref's one thread for sync code), as daphne's would be in time."""

    async def and_close() -> None:
        try:
            await scenario()
        finally:
            await database_sync_to_async(connections.close_all)()

    with ThreadPoolExecutor(1) as thread:
        thread.submit(asyncio.run, and_close()).result()


def test_the_owner_gets_the_history_then_each_tick(owner, operator) -> None:
    sale = make_sale(owner, live=True, quantity=5)
    ticking = ticker()
    first = tick(ticking)[sale.pk]
    for_owner, for_operator = session_cookie(owner), session_cookie(operator)

    async def scenario() -> None:
        pages = [
            WebsocketCommunicator(application, f"/ws/dashboard/sales/{sale.pk}/", headers=headers)
            for headers in (for_owner, for_operator)
        ]
        for page in pages:
            connected, _ = await page.connect()
            assert connected
            history = await page.receive_json_from(timeout=5)
            assert history["type"] == "dashboard.history"
            assert [point["t"] for point in history["points"]] == [first["t"]]
        await asyncio.sleep(0.3)  # the subscriptions reach Redis
        second = (await database_sync_to_async(ticking.tick)())[sale.pk]
        for page in pages:
            message = await page.receive_json_from(timeout=5)
            assert message == {"type": "dashboard.point", "point": second}
            await page.disconnect()

    run(scenario)


@pytest.mark.parametrize("who", ["another merchant", "anonymous"])
def test_another_merchant_and_the_anonymous_are_refused(owner, other_merchant, who: str) -> None:
    sale = make_sale(owner, live=True, quantity=5)
    ticking = ticker()
    headers = session_cookie(other_merchant if who == "another merchant" else None)

    async def scenario() -> None:
        page = WebsocketCommunicator(application, f"/ws/dashboard/sales/{sale.pk}/", headers=headers)
        connected, code = await page.connect()
        assert not connected and code == 4403
        await database_sync_to_async(ticking.tick)()
        assert await page.receive_nothing(timeout=1)
        overview = WebsocketCommunicator(application, "/ws/dashboard/", headers=headers)
        connected, _ = await overview.connect()
        if who == "anonymous":
            assert not connected
        else:  # a merchant's overview: their own sales only (none here)
            assert connected
            listing = await overview.receive_json_from(timeout=5)
            assert listing["sales"] == [] and listing["points"] == []
            await overview.disconnect()

    run(scenario)


def test_the_overview_lists_the_users_live_sales(owner, other_merchant, operator) -> None:
    mine = make_sale(owner, live=True, quantity=5, product_name="Mine")
    theirs = make_sale(other_merchant, live=True, quantity=5, product_name="Theirs")
    make_sale(owner, product_name="A draft")  # not live: not on the overview
    tick(ticker())
    owner_headers, operator_headers = session_cookie(owner), session_cookie(operator)

    async def listing(headers: list[tuple[bytes, bytes]]) -> dict:
        page = WebsocketCommunicator(application, "/ws/dashboard/", headers=headers)
        connected, _ = await page.connect()
        assert connected
        message = await page.receive_json_from(timeout=5)
        await page.disconnect()
        return message

    async def scenario() -> None:
        for_owner = await listing(owner_headers)
        assert [s["sale_id"] for s in for_owner["sales"]] == [mine.pk]
        assert [p["sale_id"] for p in for_owner["points"]] == [mine.pk]
        for_operator = await listing(operator_headers)
        assert [s["sale_id"] for s in for_operator["sales"]] == [mine.pk, theirs.pk]

    run(scenario)
