"""The scalper's race from issue 22, through the whole product (the front, nginx,
granian, daphne, the admitter), not in demo mode: a 20-unit sale (rate 2, burst 2,
2 admissions a second, one unit per shopper), set against bots as a merchant would
(one unit and two turns per client address, a proof of work for each cookie).

Twenty honest shoppers, each on an address of its own (127.0.1.x), follow the hosted
pages as a browser does: the sale page, the proof of work, Buy, the waiting room,
polls that carry the page's presence token, the admission, Buy with it. One bot on
one address (127.0.2.1) does the same with as many cookies as it can mint, ten at
a time, for the whole sale. Before issue 22's fixes the bot bought 17 units and the
shoppers 3."""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from collections import Counter
from typing import Any

import pytest

from orders.buy import identity
from tests.factories import make_sale
from tests.support.http import BrowserSession, WebServer
from tests.support.product import Product
from tests.support.shoppers import prove

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

UNITS, SHOPPERS, BOT_THREADS = 20, 20, 10
PROOF_BITS = 14  # about 16,000 hashes per cookie: a few ms in Python, the bot pays it per cookie
BOT_ADDRESS = "127.0.2.1"


def FromAddress(port: int, address: str) -> WebServer:
    """The product's one address, reached from a client address of our choosing (the
    whole of 127.0.0.0/8 is this machine's): the front sees that peer."""
    return WebServer(port, None, source=address)


class Race:
    def __init__(self, product: Product, sale_id: int) -> None:
        self.port = product.port
        self.sale_id = sale_id
        self.units: Counter[str] = Counter()
        self.lock = threading.Lock()
        self.over = threading.Event()
        self.deadline = time.monotonic() + 90
        self.bot_cookies = 0
        self.bot_places = 0

    def running(self) -> bool:
        return not self.over.is_set() and time.monotonic() < self.deadline

    def buy(self, browser: BrowserSession, who: str, admission: str | None = None) -> str:
        headers = {
            "Content-Type": "application/json",
            "Accept": "application/json",  # as the page's fetch(): 429 and the waiting room, not a 302
            "Idempotency-Key": uuid.uuid4().hex,
            **({"Admission-Token": admission} if admission else {}),
        }
        reply = browser.request(
            "POST", f"/api/v1/sales/{self.sale_id}/buy", json.dumps({"quantity": 1}), headers
        )
        status = reply.json()["status"]
        if status in ("accepted", "accepted_pending"):
            with self.lock:
                self.units[who] += 1
        if status in ("sold_out", "ended"):
            self.over.set()
        return status

    def shopper(self, address: str, who: str) -> BrowserSession | None:
        """A browser with a shopper cookie, as the sale page gives one: the page, the proof."""
        browser = BrowserSession(FromAddress(self.port, address))
        page = browser.get(f"/sales/{self.sale_id}/")
        if page.status != 200 or prove(browser, self.sale_id, page.text).status != 200:
            return None
        assert identity.SHOPPER_COOKIE in browser.cookies, who
        return browser

    def journey(self, browser: BrowserSession, who: str) -> None:
        """Buy; turned away, wait in the line as the page does, and buy with the turn."""
        status = self.buy(browser, who)
        if status != "rate_limited":
            return
        room = browser.get(f"/waiting-room/{self.sale_id}/")
        place = re.search(r'data-place="([a-z_]+)"', room.text)
        if place is None or place.group(1) not in ("waiting", "admitted"):
            return  # refused a place (address_done, sold out): the journey ends
        if who == "bot":
            with self.lock:
                self.bot_places += 1
        csrf = re.search(r'data-csrf="([^"]+)"', room.text).group(1)  # type: ignore[union-attr]
        presence = re.search(r'data-presence="([^"]+)"', room.text).group(1)  # type: ignore[union-attr]
        while self.running():
            answer = browser.get(f"/waiting-room/{self.sale_id}/status.json?presence={presence}").json()
            presence = answer.get("presence", presence)
            if answer.get("status") in ("sold_out", "ended"):
                return
            if answer.get("place", {}).get("status") == "admitted":
                turn = browser.request(
                    "POST",
                    f"/waiting-room/{self.sale_id}/admission.json",
                    headers={"X-CSRFToken": csrf, "Origin": browser.server.origin},
                ).json()
                if turn.get("admitted"):
                    self.buy(browser, who, turn["admission_token"])
                    return
            if answer.get("place", {}).get("status") == "none":
                return
            time.sleep(0.5)

    def honest(self, n: int, start: threading.Barrier) -> None:
        start.wait()
        browser = self.shopper(f"127.0.1.{n + 1}", f"honest-{n}")
        if browser is not None:
            self.journey(browser, f"honest-{n}")

    def bot(self, start: threading.Barrier) -> None:
        """Mint a cookie, run the journey with it, and again, for as long as the sale lasts."""
        start.wait()
        while self.running():
            browser = self.shopper(BOT_ADDRESS, "bot")
            if browser is None:
                continue
            with self.lock:
                self.bot_cookies += 1
            self.journey(browser, "bot")


def test_a_cookie_rotating_bot_does_no_better_than_an_honest_shopper(product: Product, owner: Any) -> None:
    sale = make_sale(
        owner,
        live=True,
        quantity=UNITS,
        rate=2,
        burst=2,
        admission_rate=2,
        per_user_limit=1,
        units_per_address=1,
        admissions_per_address=2,
        proof_bits=PROOF_BITS,
    )
    race = Race(product, sale.pk)
    start = threading.Barrier(SHOPPERS + BOT_THREADS)
    threads = [threading.Thread(target=race.honest, args=(n, start)) for n in range(SHOPPERS)]
    threads += [threading.Thread(target=race.bot, args=(start,)) for _ in range(BOT_THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    race.over.set()

    bot = race.units["bot"]
    honest = {who: n for who, n in race.units.items() if who != "bot"}
    report = (
        f"bot {bot} unit(s) with {race.bot_cookies} cookies and {race.bot_places} places; "
        f"honest shoppers {sum(honest.values())} units: {sorted(honest.values())}"
    )
    print(report)
    assert sum(race.units.values()) <= UNITS, report
    # The bot is one client: at most what one honest shopper gets (one unit here), and no
    # more than the honest shoppers who bought got each.
    assert bot <= 1 and bot <= max(honest.values(), default=0), report
    assert sum(honest.values()) >= 0.8 * UNITS, report
    assert race.bot_cookies > 1  # it did rotate cookies: the caps, not a lack of trying, held it
