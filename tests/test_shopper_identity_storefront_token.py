"""A shop calling the buy API from its backend proves its shopper with an
X-Shopper-Token signed by its merchant's storefront key: the shopper is scoped to
the merchant ("m<id>:<ref>") and the limit binds to it; a forged, altered,
expired, over-long, malformed or unknown-key token, and a token of another
merchant's storefront, are refused 401 shopper_invalid with nothing sold.
Over real HTTP (granian), outside demo mode."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable

import pytest
from django.conf import settings

from orders.buy import identity
from sales.live import live_state
from tests.factories import make_sale
from tests.support.http import WebServer
from tests.support.shoppers import Storefront, storefront

pytestmark = pytest.mark.django_db


def buy(
    server: WebServer, sale_id: int, headers: dict[str, str], body: dict | None = None
) -> tuple[int, dict]:
    status, _, raw = server.post(
        f"/api/v1/sales/{sale_id}/buy",
        json.dumps(body or {"quantity": 1}),
        {"Idempotency-Key": uuid.uuid4().hex, **headers},
    )
    return status, json.loads(raw)


def test_a_storefront_shopper_buys_under_a_merchant_scoped_id(owner, web_server: WebServer) -> None:
    shop = storefront(owner)
    sale = make_sale(owner, live=True, per_user_limit=1)

    status, body = buy(web_server, sale.pk, shop.headers("alice"))
    assert (status, body["status"], body["user_id"]) == (200, "accepted", f"m{owner.pk}:alice")
    # A fresh token for the same shopper is the same shopper: the limit holds.
    status, body = buy(web_server, sale.pk, shop.headers("alice"))
    assert (status, body["status"]) == (409, "limit_reached")
    # The body may name the shopper too, if it names the same one.
    status, body = buy(web_server, sale.pk, shop.headers("bob"), {"user_id": shop.shopper_id("bob")})
    assert (status, body["status"]) == (200, "accepted")
    assert live_state(sale.pk).sold == 2


def signed(shop: Storefront, *, ref: str = "alice", secret: str | None = None, expires_in: int = 600) -> str:
    return identity.shopper_token_sign(
        key_id=shop.key_id,
        secret=shop.secret if secret is None else secret,
        shopper_ref=ref,
        expires=int(time.time()) + expires_in,
    )


def swap_ref(token: str, ref: str) -> str:
    key_id, _, expires, signature = token.split(".")
    return f"{key_id}.{ref}.{expires}.{signature}"


FORGERIES: dict[str, tuple[Callable[[Storefront], str], str]] = {
    "signed with a guessed secret": (lambda shop: signed(shop, secret="guessed"), "signature does not match"),
    "another shopper's ref under alice's signature": (
        lambda shop: swap_ref(signed(shop), "mallory"),
        "signature does not match",
    ),
    "expired": (lambda shop: signed(shop, expires_in=-1), "expired"),
    "living longer than allowed": (
        lambda shop: signed(shop, expires_in=settings.SHOPPER_TOKEN_MAX_SECONDS + 120),
        "expires too late",
    ),
    "an unknown key": (
        lambda shop: identity.shopper_token_sign(
            key_id="fgk_0123456789abcdef",
            secret=shop.secret,
            shopper_ref="alice",
            expires=int(time.time()) + 60,
        ),
        "no such storefront key",
    ),
    "not a token": (lambda shop: "alice", "malformed"),
    "a ref outside the alphabet": (lambda shop: signed(shop, ref="al ice"), "malformed"),
}


@pytest.mark.parametrize("case", list(FORGERIES))
def test_a_token_that_does_not_hold_is_refused(owner, web_server: WebServer, case: str) -> None:
    shop = storefront(owner)
    sale = make_sale(owner, live=True)
    forge, reason = FORGERIES[case]
    status, body = buy(web_server, sale.pk, {"X-Shopper-Token": forge(shop)})
    assert (status, body["status"], body["sale_id"]) == (401, "shopper_invalid", sale.pk), body
    assert reason in body["detail"]
    assert live_state(sale.pk).sold == 0


def test_another_merchant_s_token_is_refused(owner, other_merchant, web_server: WebServer) -> None:
    their_shop = storefront(other_merchant)
    our_sale = make_sale(owner, live=True)
    their_sale = make_sale(other_merchant, live=True)

    status, body = buy(web_server, our_sale.pk, their_shop.headers("alice"))
    assert (status, body["status"]) == (401, "shopper_invalid"), body
    assert live_state(our_sale.pk).sold == 0
    # The very same kind of token is good on its own merchant's sale.
    status, body = buy(web_server, their_sale.pk, their_shop.headers("alice"))
    assert (status, body["status"]) == (200, "accepted")
