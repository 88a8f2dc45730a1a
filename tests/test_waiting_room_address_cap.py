"""Places in one sale's queue are capped per client address
(WAITING_ROOM_JOINS_PER_ADDRESS): one machine cannot fill the queue with made-up
shoppers. A place that ends (admitted or skipped) gives its address the slot back."""

from __future__ import annotations

import pytest

from tests.factories import make_sale
from tests.support.queue import redis_now_ms
from waitingroom.queue import PlaceStatus, queue_admit, queue_join, queue_present

pytestmark = pytest.mark.django_db


def join(sale_id: int, shopper: str, address: str, now_ms: int | None = None) -> PlaceStatus:
    return queue_join(sale_id=sale_id, shopper=shopper, client_address=address, now_ms=now_ms).status


def test_an_address_holds_at_most_its_cap_of_places(owner, settings) -> None:
    settings.WAITING_ROOM_JOINS_PER_ADDRESS = 3
    sale = make_sale(owner, live=True)
    assert [join(sale.pk, f"bot-{n}", "198.51.100.7") for n in range(4)] == [
        *[PlaceStatus.WAITING] * 3,
        PlaceStatus.ADDRESS_FULL,
    ]
    assert join(sale.pk, "bot-0", "198.51.100.7") == PlaceStatus.WAITING  # a refresh takes no new slot
    assert join(sale.pk, "alice", "203.0.113.9") == PlaceStatus.WAITING  # another address


def test_a_place_that_ends_gives_the_slot_back(owner, redis_conn, settings) -> None:
    settings.WAITING_ROOM_JOINS_PER_ADDRESS = 2
    settings.WAITING_ROOM_GRACE_SECONDS = 15
    sale = make_sale(owner, live=True, admission_rate=1)
    start = redis_now_ms(redis_conn)
    assert join(sale.pk, "alice", "192.0.2.1", start) == PlaceStatus.WAITING
    queue_present(sale_id=sale.pk, shopper="alice")
    assert join(sale.pk, "never-listens", "192.0.2.1", start) == PlaceStatus.WAITING
    assert join(sale.pk, "third", "192.0.2.1", start) == PlaceStatus.ADDRESS_FULL

    queue_admit(sale_id=sale.pk, now_ms=start)
    assert queue_admit(sale_id=sale.pk, now_ms=start + 1000).admitted == 1  # alice
    assert join(sale.pk, "third", "192.0.2.1", start + 1000) == PlaceStatus.WAITING
    assert join(sale.pk, "fourth", "192.0.2.1", start + 1000) == PlaceStatus.ADDRESS_FULL

    assert queue_admit(sale_id=sale.pk, now_ms=start + 16_000).skipped == 1  # never-listens
    assert join(sale.pk, "fourth", "192.0.2.1", start + 16_000) == PlaceStatus.WAITING


def test_no_cap_when_set_to_zero(owner, settings) -> None:
    settings.WAITING_ROOM_JOINS_PER_ADDRESS = 0
    sale = make_sale(owner, live=True)
    assert {join(sale.pk, f"s{n}", "198.51.100.7") for n in range(20)} == {PlaceStatus.WAITING}
