"""A fair start for a crowd, through nginx and the whole running product (issue 21):
200 shoppers join a scheduled sale's line before its start, each with a browser's
signed cookie, and keep their places by polling as a page does; 20 more arrive after
the start. The product's own sweep opens the sale and its own admitter draws the line.
The 200 are let in in exactly the order the recorded draw gives, not the order they
joined, and none of the 20 before any of them.

The shoppers are HTTP clients, not 220 chromium pages (a page each would not fit on
this machine); tests/browser/test_prequeue.py drives the same start with real pages."""

from __future__ import annotations

import http.client
import json
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from django.utils import timezone
from playwright.sync_api import Page

from orders.buy import identity
from sales import keys, services
from sales.models import Sale
from tests.factories import make_sale
from tests.support.product import Product
from tests.support.servers import wait_for
from waitingroom.draw import drawn_order

EARLY = 200
LATE = 20
RATE = 40  # shoppers let in per second


class Shopper:
    """A browser on the waiting room, from an address of its own among a few (the
    line takes WAITING_ROOM_JOINS_PER_ADDRESS places per address): its cookie, and
    its page's polls, each with the presence token of the page's last answer."""

    def __init__(self, product: Product, sale_id: int, number: int) -> None:
        parts = urlsplit(product.url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.path = f"/waiting-room/{sale_id}/"
        self.source = f"127.0.0.{10 + number % 20}"  # loopback answers on all of 127/8
        self.cookie = ""
        self.id = ""
        self.presence = ""

    def _get(self, path: str, headers: dict[str, str]) -> tuple[http.client.HTTPResponse, bytes]:
        connection = http.client.HTTPConnection(
            self.host, self.port, timeout=10, source_address=(self.source, 0)
        )
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        body = response.read()
        connection.close()
        return response, body

    def open_room(self) -> None:
        response, body = self._get(self.path, {})
        assert response.status == 200, response.status
        presence = re.search(rb'data-presence="([^"]+)"', body)
        assert presence is not None
        self.presence = presence.group(1).decode()
        cookies = response.headers.get_all("Set-Cookie") or []
        pair = next(c.split(";", 1)[0] for c in cookies if c.startswith(identity.SHOPPER_COOKIE + "="))
        self.cookie = pair
        shopper = identity.shopper_of_cookie(pair.split("=", 1)[1])
        assert shopper is not None
        self.id = shopper

    def poll(self) -> None:
        response, body = self._get(
            self.path + f"status.json?presence={self.presence}", {"Cookie": self.cookie}
        )
        assert response.status == 200
        self.presence = json.loads(body).get("presence", self.presence)


def test_two_hundred_in_line_before_the_start_are_served_in_the_draws_order(
    site: Page, product: Product, owner: Any, redis_conn: Any
) -> None:
    now = timezone.now()
    sale = make_sale(
        owner, quantity=1_000, admission_rate=RATE, starts_at=now + timedelta(seconds=25),
        ends_at=now + timedelta(hours=1),
    )  # fmt: skip
    services.sale_schedule(sale_id=sale.pk)
    early = [Shopper(product, sale.pk, n) for n in range(EARLY)]
    late = [Shopper(product, sale.pk, n) for n in range(LATE)]
    for shopper in early:  # one after the other: the join order is known
        shopper.open_room()
    assert redis_conn.hget(keys.queue_key(sale.pk, "draw"), "last_ticket") == str(EARLY).encode()

    # Every page polls every two seconds (present within five), as a page without a socket does.
    stop = threading.Event()
    polling = [*early]

    def keep_present() -> None:
        with ThreadPoolExecutor(16) as pool:
            while not stop.wait(2):
                list(pool.map(lambda shopper: shopper.poll(), list(polling)))

    poller = threading.Thread(target=keep_present, daemon=True)
    poller.start()
    try:
        wait_for(lambda: Sale.objects.get(pk=sale.pk).status == "live", 40, "the sweep opening the sale")
        for shopper in late:  # after the start; some before the admitter's draw, most after
            shopper.open_room()
            polling.append(shopper)
        wait_for(lambda: Sale.objects.get(pk=sale.pk).prequeue_draw is not None, 20, "the draw recorded")
        wait_for(
            lambda: redis_conn.hlen(keys.queue_key(sale.pk, "admitted")) == EARLY + LATE,
            40,
            "every shopper let in",
        )
    finally:
        stop.set()
        poller.join(timeout=30)

    record = Sale.objects.get(pk=sale.pk).prequeue_draw
    assert record is not None and record["entrants"] == EARLY
    expected = drawn_order(str(record["seed"]), [shopper.id for shopper in early])
    assert expected != [shopper.id for shopper in early]
    # The order they were let in: by the admission's time (its expiry), then its place.
    admitted = redis_conn.hgetall(keys.queue_key(sale.pk, "admitted"))
    served = [
        shopper.decode()
        for shopper, _value in sorted(
            admitted.items(),
            key=lambda item: tuple(int(part) for part in item[1].decode().split("|")[1:]),
        )
    ]
    assert served[:EARLY] == expected
    assert set(served[EARLY:]) == {shopper.id for shopper in late}
