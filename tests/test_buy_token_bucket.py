"""The token bucket admits burst + rate × time, measured on Redis's clock."""

from __future__ import annotations

import threading
import time
from collections import Counter

import pytest

from orders.buy import decision
from orders.buy.outcomes import Outcome
from tests.factories import make_sale

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


@pytest.mark.parametrize("rate, burst", [(200, 50), (50, 300)])
def test_admits_rate_times_time_plus_burst(owner, redis_conn, rate: int, burst: int) -> None:
    # Warm the process's Kafka producer first: its first acknowledgement waits for
    # the broker connection, long enough for the bucket to overflow meanwhile.
    warm_up = make_sale(owner, live=True)
    assert (
        decision.buy(sale_id=warm_up.pk, user_id="w", quantity=1, idempotency_key="w").outcome
        == Outcome.ACCEPTED
    )
    sale = make_sale(owner, live=True, quantity=1_000_000, rate=rate, burst=burst)

    outcomes: Counter[str] = Counter()
    lock = threading.Lock()
    stop = time.monotonic() + 2.0

    def hammer(thread: int) -> None:
        n = 0
        while time.monotonic() < stop:
            n += 1
            key = f"t{thread}-{n}"
            outcome = decision.buy(sale_id=sale.pk, user_id=key, quantity=1, idempotency_key=key).outcome
            with lock:
                outcomes[outcome] += 1

    seconds, micros = redis_conn.time()
    started = seconds + micros / 1e6
    threads = [threading.Thread(target=hammer, args=(t,)) for t in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds, micros = redis_conn.time()
    elapsed = seconds + micros / 1e6 - started

    expected = burst + rate * elapsed
    assert set(outcomes) == {Outcome.ACCEPTED, Outcome.RATE_LIMITED}
    assert outcomes[Outcome.RATE_LIMITED] > outcomes[Outcome.ACCEPTED]  # the bucket really was the limit
    assert abs(outcomes[Outcome.ACCEPTED] - expected) <= 0.05 * expected + 2, (outcomes, expected)
