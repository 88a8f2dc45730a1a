"""Shoppers who prove who they are, as the product expects outside demo mode: a
storefront's X-Shopper-Token (signed with a real storefront key, made through
the service, so it is in PostgreSQL and in the Redis mirror the buy path reads)
or the hosted pages' signed fg_shopper cookie."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from orders.buy import identity


@dataclass(frozen=True)
class Storefront:
    """A merchant's shop backend: it holds a storefront key and signs its shoppers' tokens."""

    merchant_id: int
    key_id: str
    secret: str

    def token(self, shopper_ref: str, *, expires_in: int = 600) -> str:
        return identity.shopper_token_sign(
            key_id=self.key_id,
            secret=self.secret,
            shopper_ref=shopper_ref,
            expires=int(time.time()) + expires_in,
        )

    def headers(self, shopper_ref: str, **kwargs: Any) -> dict[str, str]:
        return {"X-Shopper-Token": self.token(shopper_ref, **kwargs)}

    def shopper_id(self, shopper_ref: str) -> str:
        """What the buy API names this shopper (the answer's user_id)."""
        return f"m{self.merchant_id}:{shopper_ref}"


def storefront(merchant: Any, name: str = "test shop") -> Storefront:
    """A new storefront key of `merchant` (the mirror is written by the service:
    make it after the test's Redis flush, i.e. inside the test)."""
    from sales.storefront import storefront_key_create

    key, secret = storefront_key_create(merchant=merchant, name=name)
    return Storefront(merchant.pk, key.key_id, secret)


def shopper_cookie(shopper_id: str | None = None) -> tuple[str, dict[str, str]]:
    """(shopper id, headers) of a browser holding a signed fg_shopper cookie, as
    the hosted pages set it (tests that are about the pages get it from a page)."""
    shopper_id = shopper_id or identity.shopper_id_new()
    value = identity.shopper_cookie_sign(shopper_id)
    return shopper_id, {"Cookie": f"{identity.SHOPPER_COOKIE}={value}"}


def page_proof(page_html: str) -> tuple[str, str, int] | None:
    """(challenge, CSRF token, bits) of a shopper page that asks a proof of work; None
    when it asks none."""
    import re

    challenge = re.search(r'data-challenge="([^"]+)"', page_html)
    if challenge is None:
        return None
    csrf = re.search(r'data-csrf="([^"]+)"', page_html)
    bits = re.search(r'data-proof-bits="([0-9]+)"', page_html)
    assert csrf is not None and bits is not None
    return challenge.group(1), csrf.group(1), int(bits.group(1))


def prove(browser: Any, sale_id: int, page_html: str, **fields: str) -> Any:
    """What the page's script does (shopper.js): solve the page's challenge and post the
    answer (with `fields`, a shopper check's own). Returns the reply."""
    from urllib.parse import urlencode

    from waitingroom.proof import solve

    found = page_proof(page_html)
    assert found is not None, "the page asks no proof of work"
    challenge, csrf, bits = found
    body = urlencode({"challenge": challenge, "nonce": solve(challenge, bits), **fields})
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-CSRFToken": csrf,
        "Origin": browser.server.origin,
    }
    return browser.request("POST", f"/sales/{sale_id}/shopper.json", body, headers)
