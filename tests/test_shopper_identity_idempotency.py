"""Idempotency keys are the shopper's own: another shopper sending a key that
bought (learnt or guessed) gets a decision of their own — never the first
shopper's order id — and cannot use the key up for them. Over real HTTP."""

from __future__ import annotations

import json

import pytest

from sales.live import live_state
from tests.factories import make_sale
from tests.support.http import WebServer
from tests.support.shoppers import shopper_cookie

pytestmark = pytest.mark.django_db


def buy(
    server: WebServer, sale_id: int, key: str, headers: dict[str, str], quantity: int = 1
) -> tuple[int, dict]:
    status, _, raw = server.post(
        f"/api/v1/sales/{sale_id}/buy",
        json.dumps({"quantity": quantity}),
        {"Idempotency-Key": key, **headers},
    )
    return status, json.loads(raw)


def test_another_shopper_s_replay_of_a_key_never_reads_the_order(owner, web_server: WebServer) -> None:
    sale = make_sale(owner, live=True, quantity=10, per_user_limit=2)
    alice, alice_cookie = shopper_cookie()
    _, mallory_cookie = shopper_cookie()

    status, bought = buy(web_server, sale.pk, "k-shared", alice_cookie)
    assert (status, bought["user_id"]) == (200, alice)

    status, replay = buy(web_server, sale.pk, "k-shared", mallory_cookie)
    assert status == 200 and replay["user_id"] != alice
    assert replay["order_id"] != bought["order_id"]  # a purchase of mallory's own

    # Alice's retry still gets her own order, and her key still means her request.
    assert buy(web_server, sale.pk, "k-shared", alice_cookie) == (200, bought)
    status, body = buy(web_server, sale.pk, "k-shared", alice_cookie, quantity=2)
    assert (status, body["status"]) == (422, "idempotency_key_reused")
    assert live_state(sale.pk).sold == 2


def test_a_key_another_shopper_used_first_is_still_yours(owner, web_server: WebServer) -> None:
    sale = make_sale(owner, live=True, quantity=10)
    _, mallory_cookie = shopper_cookie()
    alice, alice_cookie = shopper_cookie()
    buy(web_server, sale.pk, "k-squatted", mallory_cookie, quantity=2)  # tries to spoil alice's next key
    status, body = buy(web_server, sale.pk, "k-squatted", alice_cookie)
    assert (status, body["status"], body["user_id"]) == (200, "accepted", alice)
