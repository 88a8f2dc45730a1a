"""The pre-queue's shuffle at a sale's start, redone in Python: what admit.lua (4b)
draws in Redis, so that anyone holding the seed and the shoppers in join order can
check the order the sale served them in.

The shuffle is Fisher-Yates from the last place down: at step i (n..2) place i
swaps with place j = 1 + (the first 52 bits of SHA-1("<seed>:<i>") mod i). The
seed is 128 bits from `secrets`, made by the admitter for the tick that draws and
unknown before it, so nobody (the merchant included) can arrange the order in
advance; SHA-1 here spreads that seed over the steps, it is not what keeps it
secret. The record (Sale.prequeue_draw) keeps the seed and a SHA-1 digest of the
order joined and of the order drawn.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence


def drawn_order(seed: str, joined: Sequence[str]) -> list[str]:
    """The order admit.lua draws from `joined` (shopper ids, in join order) with `seed`."""
    order = list(joined)
    for i in range(len(order), 1, -1):
        j = 1 + int(hashlib.sha1(f"{seed}:{i}".encode()).hexdigest()[:13], 16) % i
        order[i - 1], order[j - 1] = order[j - 1], order[i - 1]
    return order


def order_digest(order: Sequence[str]) -> str:
    """The digest the draw's record keeps of an order: SHA-1 of its ids, one per line."""
    return hashlib.sha1("\n".join(order).encode()).hexdigest()
