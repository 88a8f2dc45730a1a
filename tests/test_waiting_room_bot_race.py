"""The race from issue 11, run again: a 20-unit sale at 2 buys a second; 20 bots
retry every 20 ms from the start, 20 honest shoppers arrive a second later and,
turned away, wait in the waiting room until they are admitted. Before the
waiting room, the bots bought 18 units and the shoppers 2. Now the bots get
only what the token bucket lets through before anyone waits: once a shopper
waits, a buy without an admission is sent to the back of the queue, and bots
that never listen are never admitted.

Over real HTTP (granian in demo mode: the body's user_id names the shopper;
this test is about the queue, not identity), with the real admitter process.
The honest shoppers' pages are played here: they join the queue, keep their
page connected, and buy with their admission token once admitted, as the
waiting room's page does."""

from __future__ import annotations

import json
import sys
import threading
import time
import uuid
from collections import Counter

import pytest

from tests.factories import make_sale
from tests.support.http import WebServer
from tests.support.servers import start_process, stop_process
from waitingroom.admission import admission_issue
from waitingroom.queue import PlaceStatus, queue_join, queue_place, queue_present

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

UNITS, RATE, BURST = 20, 2, 2
BOTS = SHOPPERS = 20
HEAD_START = 1.0  # seconds the bots hammer before the shoppers arrive


def test_bots_no_longer_win(owner, demo_web_server: WebServer) -> None:
    sale = make_sale(
        owner, live=True, quantity=UNITS, rate=RATE, burst=BURST, admission_rate=5, per_user_limit=1
    )
    admitter = start_process(
        [sys.executable, "manage.py", "run_admissions", "--tick", "0.5"], "admitter-bot-race"
    )
    bought: Counter[str] = Counter()
    lock = threading.Lock()
    sold_out = threading.Event()
    deadline = time.monotonic() + 40

    def post(shopper: str, key: str, token: str | None = None) -> dict:
        headers = {"Idempotency-Key": key, **({"Admission-Token": token} if token else {})}
        _, _, body = demo_web_server.post(
            f"/api/v1/sales/{sale.pk}/buy", json.dumps({"user_id": shopper}), headers
        )
        answer = json.loads(body)
        if answer["status"] == "accepted":
            with lock:
                bought[shopper.split("-")[0]] += 1
        elif answer["status"] == "sold_out":
            sold_out.set()
        return answer

    def bot(n: int) -> None:
        while not sold_out.is_set() and time.monotonic() < deadline:
            if post(f"bot-{n}", uuid.uuid4().hex)["status"] == "accepted":
                return  # its one unit (the per-shopper limit)
            time.sleep(0.02)

    def shopper(n: int) -> None:
        name = f"shopper-{n}"
        if post(name, uuid.uuid4().hex)["status"] != "rate_limited":
            return
        # Sent to the waiting room: its page joins, stays connected, waits for its turn.
        if queue_join(sale_id=sale.pk, shopper=name).status != PlaceStatus.WAITING:
            return
        queue_present(sale_id=sale.pk, shopper=name)
        while not sold_out.is_set() and time.monotonic() < deadline:
            if queue_place(sale_id=sale.pk, shopper=name).status == PlaceStatus.ADMITTED:
                post(name, uuid.uuid4().hex, admission_issue(sale_id=sale.pk, shopper=name))
                return
            time.sleep(0.1)

    bots = [threading.Thread(target=bot, args=(n,)) for n in range(BOTS)]
    shoppers = [threading.Thread(target=shopper, args=(n,)) for n in range(SHOPPERS)]
    try:
        for thread in bots:
            thread.start()
        time.sleep(HEAD_START)
        for thread in shoppers:
            thread.start()
        for thread in bots + shoppers:
            thread.join()
    finally:
        stop_process(admitter)

    print(f"bought: {dict(bought)}")
    assert sold_out.is_set() and bought.total() == UNITS, bought
    # The bots' share: the bucket's burst and its refill before the first shopper waited,
    # and again once the queue had emptied (every shopper admitted).
    assert bought["bot"] <= BURST + RATE * (HEAD_START + 1) + 2, bought
    assert bought["shopper"] > bought["bot"], bought
