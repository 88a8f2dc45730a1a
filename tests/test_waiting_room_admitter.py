"""The admitter (`manage.py run_admissions`): of two running, one leads (the lease
in Redis) and the other stands by; the queue moves at the sale's admission rate
on the real clock, not twice that; SIGTERM stops the leader cleanly and the
standby takes over at once. And even two admitters ticking one sale at the same
time (a leader that stalled past its lease) admit rate x time between them."""

from __future__ import annotations

import signal
import sys
import threading
import time

import pytest
import redis

from sales import keys
from tests.factories import make_sale
from tests.support.queue import redis_now_ms
from tests.support.servers import STATE_DIR, start_process, stop_process, wait_for
from waitingroom.admitter import Admitter
from waitingroom.queue import queue_admit, queue_join, queue_present

RATE = 10  # admissions per second


def line_up(sale_id: int, count: int) -> None:
    for n in range(count):
        queue_join(sale_id=sale_id, shopper=f"s{n:04d}")
        queue_present(sale_id=sale_id, shopper=f"s{n:04d}")


def admitted_total(client: redis.Redis, sale_id: int) -> int:
    return int(client.hget(keys.queue_key(sale_id, "stats"), "admitted_total") or 0)


def admitted_over(client: redis.Redis, sale_id: int, seconds: float) -> tuple[int, float]:
    """(shoppers admitted, seconds elapsed on Redis's clock) over about `seconds`."""
    before, started = admitted_total(client, sale_id), redis_now_ms(client)
    time.sleep(seconds)
    return admitted_total(client, sale_id) - before, (redis_now_ms(client) - started) / 1000


def lease_holder(client: redis.Redis) -> str | None:
    holder = client.get(keys.ADMITTER_LEASE_KEY)
    return holder.decode() if holder else None


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)  # the admitters read the sales from their own connections
def test_one_leads_at_the_rate_and_the_standby_takes_over(owner, redis_conn) -> None:
    sale = make_sale(owner, live=True, quantity=1000, admission_rate=RATE)
    line_up(sale.pk, 300)
    admitters = {
        name: start_process(
            [sys.executable, "manage.py", "run_admissions", "--holder", name, "--tick", "0.5"],
            f"admitter-{name}",
        )
        for name in ("first", "second")
    }
    try:
        wait_for(lambda: admitted_total(redis_conn, sale.pk) > 0, 20, "the first admissions")
        leader = lease_holder(redis_conn)
        assert leader in admitters
        admitted, seconds = admitted_over(redis_conn, sale.pk, 3)
        assert abs(admitted - RATE * seconds) <= RATE, (admitted, seconds)  # one admitter's worth

        admitters[leader].send_signal(signal.SIGTERM)
        assert admitters[leader].wait(10) == 0
        log = (STATE_DIR / "logs" / f"test-admitter-{leader}.log").read_text()
        assert "leading" in log and "lease released" in log and "stopped cleanly" in log

        standby = next(name for name in admitters if name != leader)
        wait_for(lambda: lease_holder(redis_conn) == standby, 2, "the standby to take the lease")
        admitted, seconds = admitted_over(redis_conn, sale.pk, 2)
        assert abs(admitted - RATE * seconds) <= RATE, (admitted, seconds)
        log = (STATE_DIR / "logs" / f"test-admitter-{standby}.log").read_text()
        assert log.index("standing by") < log.index("leading")
    finally:
        for process in admitters.values():
            stop_process(process)


@pytest.mark.django_db
def test_the_lease_goes_to_one_and_passes_when_it_is_not_renewed(redis_conn) -> None:
    first = Admitter(holder="first", tick_seconds=0.1, lease_seconds=0.3)
    second = Admitter(holder="second", tick_seconds=0.1, lease_seconds=0.3)
    assert (first.step(), second.step()) == (True, False)
    assert first.step() is True  # renewed

    time.sleep(0.4)  # first stalls past its lease
    assert second.step() is True
    assert first.step() is False  # it stands by now

    second.release_lease()  # a clean stop hands over at once
    assert first.step() is True


@pytest.mark.slow
@pytest.mark.django_db
def test_two_admitters_ticking_at_once_admit_rate_times_time(owner, redis_conn) -> None:
    sale = make_sale(owner, live=True, quantity=1000, admission_rate=RATE * 2)
    line_up(sale.pk, 300)
    queue_admit(sale_id=sale.pk)  # starts the clock
    started = redis_now_ms(redis_conn)
    stop = time.monotonic() + 2

    def tick_all_along() -> None:
        while time.monotonic() < stop:
            queue_admit(sale_id=sale.pk)
            time.sleep(0.05)

    both = [threading.Thread(target=tick_all_along) for _ in range(2)]
    for admitter in both:
        admitter.start()
    for admitter in both:
        admitter.join()
    queue_admit(sale_id=sale.pk)
    seconds = (redis_now_ms(redis_conn) - started) / 1000
    assert abs(admitted_total(redis_conn, sale.pk) - RATE * 2 * seconds) <= 2, seconds
