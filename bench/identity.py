"""What proving the shopper costs the buy path, per request, in one process.

Times orders.buy.identity.shopper_identify (what the edge calls first on every
buy) on a WSGI environ with no proof (demo mode's path), with the hosted pages'
fg_shopper cookie, and with a storefront's X-Shopper-Token whose key this process
has already read (each key costs one Redis round trip per process and
STOREFRONT_KEY_CACHE_SECONDS). Best of 5 runs of 200,000 calls each. Makes a
merchant `bench-identity` and a storefront key, and revokes the key after.

    .venv/bin/python bench/identity.py
"""

from __future__ import annotations

import os
import sys
import time
import timeit
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "flux_admin.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402

from orders.buy import identity  # noqa: E402
from sales import merchants  # noqa: E402
from sales.storefront import storefront_key_create, storefront_key_revoke  # noqa: E402

CALLS, RUNS = 200_000, 5


def main() -> None:
    merchant = get_user_model().objects.filter(username="bench-identity").first()
    merchant = merchant or merchants.merchant_create(username="bench-identity", password=os.urandom(16).hex())
    key, secret = storefront_key_create(merchant=merchant, name="bench")
    try:
        token = identity.shopper_token_sign(
            key_id=key.key_id, secret=secret, shopper_ref="alice", expires=int(time.time()) + 600
        )
        cookie = identity.shopper_cookie_sign(identity.shopper_id_new())
        request = {"REQUEST_METHOD": "POST", "HTTP_HOST": "127.0.0.1", "HTTP_IDEMPOTENCY_KEY": "k"}
        cases = {
            "no proof (demo mode)": request,
            "fg_shopper cookie": {**request, "HTTP_COOKIE": f"csrftoken=abc; fg_shopper={cookie}"},
            "X-Shopper-Token, key cached": {**request, "HTTP_X_SHOPPER_TOKEN": token},
        }
        identity.shopper_identify(cases["X-Shopper-Token, key cached"])  # this process reads the key
        for name, meta in cases.items():
            best = min(
                timeit.repeat(lambda meta=meta: identity.shopper_identify(meta), number=CALLS, repeat=RUNS)
            )
            print(f"{name}: {best / CALLS * 1e6:.2f} µs per request")
    finally:
        storefront_key_revoke(key=key)


if __name__ == "__main__":
    main()
