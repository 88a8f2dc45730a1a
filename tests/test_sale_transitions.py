"""The sale status machine: allowed moves change PostgreSQL and Redis together;
every other move is refused with a message naming the status."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from infra.errors import ApplicationError
from sales import services
from sales.live import live_state
from sales.models import SaleStatus
from tests.factories import make_sale

pytestmark = pytest.mark.django_db


def test_draft_has_no_live_state(owner) -> None:
    sale = make_sale(owner)
    assert sale.status == SaleStatus.DRAFT
    assert live_state(sale.pk) is None


def test_schedule_writes_state_as_scheduled(owner) -> None:
    now = timezone.now()
    sale = make_sale(owner, starts_at=now + timedelta(minutes=5), ends_at=now + timedelta(minutes=10))
    sale = services.sale_schedule(sale_id=sale.pk)
    state = live_state(sale.pk)
    assert sale.status == SaleStatus.SCHEDULED
    assert (state.status, state.remaining, state.sold, state.quantity) == ("scheduled", 100, 0, 100)
    assert state.starts_ms == int(sale.starts_at.timestamp() * 1000)


def test_schedule_needs_a_future_window(owner) -> None:
    sale = make_sale(owner, starts_at=None, ends_at=None)
    with pytest.raises(ApplicationError) as refused:
        services.sale_schedule(sale_id=sale.pk)
    assert refused.value.code == "invalid"
    assert set(refused.value.fields) == {"starts_at", "ends_at"}


def test_go_live_pause_resume_end(owner) -> None:
    sale = make_sale(owner, quantity=7, per_user_limit=2, rate=50, burst=80)
    sale = services.sale_go_live(sale_id=sale.pk)
    state = live_state(sale.pk)
    assert (state.status, state.remaining, state.per_user_limit, state.rate, state.burst) == (
        "live",
        7,
        2,
        50,
        80,
    )
    assert sale.went_live_at is not None

    assert services.sale_pause(sale_id=sale.pk).status == SaleStatus.PAUSED
    assert live_state(sale.pk).status == "paused"
    assert services.sale_resume(sale_id=sale.pk).status == SaleStatus.LIVE
    assert live_state(sale.pk).status == "live"
    ended = services.sale_end(sale_id=sale.pk)
    assert ended.status == SaleStatus.ENDED
    assert ended.ended_at is not None
    assert live_state(sale.pk).status == "ended"
    assert live_state(sale.pk).remaining == 7  # figures stay readable


@pytest.mark.parametrize(
    "start, action, message",
    [
        ("draft", services.sale_pause, "Cannot pause sale"),
        ("draft", services.sale_resume, "Cannot resume sale"),
        ("live", services.sale_go_live, "Cannot go live sale"),
        ("live", services.sale_resume, "it is live"),
        ("live", services.sale_schedule, "Cannot schedule sale"),
        ("ended", services.sale_go_live, "it is ended"),
        ("ended", services.sale_resume, "it is ended"),
        ("ended", services.sale_end, "it is ended"),
    ],
)
def test_invalid_transitions_are_refused(owner, start: str, action, message: str) -> None:
    sale = make_sale(owner)
    if start in ("live", "ended"):
        services.sale_go_live(sale_id=sale.pk)
    if start == "ended":
        services.sale_end(sale_id=sale.pk)
    before = live_state(sale.pk)

    with pytest.raises(ApplicationError) as refused:
        action(sale_id=sale.pk)

    assert refused.value.code == "invalid_transition"
    assert message in refused.value.message
    sale.refresh_from_db()
    assert sale.status == start
    assert live_state(sale.pk) == before


def test_restock_raises_quantity_and_remaining_together(owner, redis_conn) -> None:
    sale = make_sale(owner, live=True, quantity=10)
    # Three units sold, as the buy script would record them.
    redis_conn.hincrby(f"fg:{{{sale.pk}}}:state", "remaining", -3)
    redis_conn.hincrby(f"fg:{{{sale.pk}}}:state", "sold", 3)

    sale = services.sale_restock(sale_id=sale.pk, units=5)

    state = live_state(sale.pk)
    assert sale.quantity == 15
    assert (state.quantity, state.remaining, state.sold) == (15, 12, 3)


def test_restock_refuses_nonpositive_units_and_ended_sales(owner) -> None:
    sale = make_sale(owner, live=True)
    for units in (0, -5):
        with pytest.raises(ApplicationError) as refused:
            services.sale_restock(sale_id=sale.pk, units=units)
        assert refused.value.fields == {"units": ["must be ≥ 1"]}
    services.sale_end(sale_id=sale.pk)
    with pytest.raises(ApplicationError, match="has ended"):
        services.sale_restock(sale_id=sale.pk, units=1)


def test_a_live_sale_cannot_be_edited_only_restocked(owner) -> None:
    sale = make_sale(owner, live=True)
    with pytest.raises(ApplicationError) as refused:
        services.sale_update(sale_id=sale.pk, quantity=5)
    assert refused.value.code == "invalid_transition"
    sale.refresh_from_db()
    assert sale.quantity == 100


def test_sold_out_is_recorded_and_restock_reopens(owner, redis_conn) -> None:
    sale = make_sale(owner, live=True, quantity=2)
    redis_conn.hset(f"fg:{{{sale.pk}}}:state", mapping={"remaining": 0, "sold": 2})

    assert services.sales_sweep()["sold_out"] == [sale.pk]
    sale.refresh_from_db()
    assert sale.status == SaleStatus.SOLD_OUT

    sale = services.sale_restock(sale_id=sale.pk, units=3)
    assert sale.status == SaleStatus.LIVE
    state = live_state(sale.pk)
    assert (state.status, state.remaining, state.quantity) == ("live", 3, 5)


def test_editing_a_scheduled_sale_rewrites_its_state(owner) -> None:
    now = timezone.now()
    sale = make_sale(owner, starts_at=now + timedelta(minutes=5), ends_at=now + timedelta(minutes=10))
    services.sale_schedule(sale_id=sale.pk)
    services.sale_update(sale_id=sale.pk, quantity=40, rate=9)
    state = live_state(sale.pk)
    assert (state.status, state.quantity, state.remaining, state.rate) == ("scheduled", 40, 40, 9)


def test_one_open_sale_per_sku(owner) -> None:
    """Per merchant: another merchant's SKUs are their own (tests/test_sku_per_merchant.py)."""
    make_sale(owner, live=True, sku="iphone-15")
    with pytest.raises(ApplicationError) as refused:
        services.sale_go_live(sale_id=make_sale(owner, sku="iphone-15").pk)
    assert "iphone-15" in refused.value.message
