"""Limits that follow the client, not the cookie (issue 22): per sale, the hosted
pages' shoppers behind one client address buy at most units_per_address units and
get at most admissions_per_address turns from the waiting room, however many
shopper cookies they hold. An IPv6 /64 is one address. A storefront's shoppers (one
backend calls for all of them) and demo mode's are not counted. 0 means no cap."""

from __future__ import annotations

import uuid

import pytest

from orders.buy import identity
from orders.buy.decision import buy
from orders.buy.outcomes import Outcome
from tests.factories import make_sale
from tests.support.queue import redis_now_ms
from waitingroom.queue import PlaceStatus, queue_admit, queue_join, queue_present

pytestmark = pytest.mark.django_db


def cookie_buy(sale_id: int, shopper: str, address: str, quantity: int = 1, **extra: object) -> Outcome:
    """A hosted pages' shopper's buy (a cookie: proof bits, and its address counted)."""
    return buy(
        sale_id=sale_id,
        user_id=shopper,
        quantity=quantity,
        idempotency_key=uuid.uuid4().hex,
        client_address=identity.address_group(address),
        proof_bits=0,
        **extra,  # type: ignore[arg-type]
    ).outcome


def test_thirty_cookies_on_one_address_buy_one_unit_of_a_one_per_address_sale(owner) -> None:
    sale = make_sale(owner, live=True, quantity=100, per_user_limit=1, units_per_address=1)
    outcomes = [cookie_buy(sale.pk, identity.shopper_id_new(), "198.51.100.7") for _ in range(30)]
    assert outcomes.count(Outcome.ACCEPTED) == 1
    assert outcomes[1:] == [Outcome.ADDRESS_LIMIT_REACHED] * 29
    # Another address is another household.
    assert cookie_buy(sale.pk, identity.shopper_id_new(), "203.0.113.9") == Outcome.ACCEPTED


def test_the_address_cap_counts_units_and_leaves_a_household_its_share(owner) -> None:
    sale = make_sale(owner, live=True, quantity=100, per_user_limit=2, units_per_address=4)
    home = "192.0.2.44"
    assert cookie_buy(sale.pk, "s_parent", home, 2) == Outcome.ACCEPTED
    assert cookie_buy(sale.pk, "s_child", home, 2) == Outcome.ACCEPTED
    assert cookie_buy(sale.pk, "s_guest", home, 1) == Outcome.ADDRESS_LIMIT_REACHED
    # The refusal stored nothing and sold nothing: 4 units sold to that address, 96 left.
    from sales.live import live_state

    assert live_state(sale_id=sale.pk).remaining == 96


def test_an_ipv6_slash_64_is_one_address(owner) -> None:
    sale = make_sale(owner, live=True, quantity=100, per_user_limit=1, units_per_address=2)
    rotating = [f"2001:db8:1:2::{n:x}" for n in range(1, 6)]
    outcomes = [cookie_buy(sale.pk, identity.shopper_id_new(), address) for address in rotating]
    assert outcomes == [Outcome.ACCEPTED] * 2 + [Outcome.ADDRESS_LIMIT_REACHED] * 3
    assert cookie_buy(sale.pk, identity.shopper_id_new(), "2001:db8:1:3::1") == Outcome.ACCEPTED


def test_storefront_and_demo_shoppers_are_not_counted_per_address(owner) -> None:
    sale = make_sale(owner, live=True, quantity=100, per_user_limit=1, units_per_address=1)
    for n in range(5):  # no client address given: a storefront's shopper, or demo mode's
        outcome = buy(
            sale_id=sale.pk, user_id=f"m1:shopper-{n}", quantity=1, idempotency_key=uuid.uuid4().hex
        )
        assert outcome.outcome == Outcome.ACCEPTED


def test_zero_is_no_cap(owner) -> None:
    sale = make_sale(owner, live=True, quantity=100, per_user_limit=1, units_per_address=0)
    outcomes = {cookie_buy(sale.pk, identity.shopper_id_new(), "198.51.100.7") for _ in range(10)}
    assert outcomes == {Outcome.ACCEPTED}


def test_an_address_gets_its_turns_over_the_whole_sale(owner, redis_conn) -> None:
    """Each turn given frees a place, so the cap on places held at once let a bot join
    again and again (65 joins in 10 s); turns are counted for the whole sale."""
    sale = make_sale(owner, live=True, admission_rate=10, admissions_per_address=3)
    now = redis_now_ms(redis_conn)
    bot = "198.51.100.7"
    joined = 0
    for round_ in range(5):
        for n in range(5):
            shopper = f"bot-{round_}-{n}"
            place = queue_join(sale_id=sale.pk, shopper=shopper, client_address=bot, now_ms=now)
            if place.status == PlaceStatus.WAITING:
                joined += 1
                queue_present(sale_id=sale.pk, shopper=shopper)
            else:
                assert place.status == PlaceStatus.ADDRESS_DONE
        queue_admit(sale_id=sale.pk, now_ms=now)
        now += 1000
        queue_admit(sale_id=sale.pk, now_ms=now)  # admits everyone waiting (10 a second)
    assert joined == 3
    honest = queue_join(sale_id=sale.pk, shopper="alice", client_address="203.0.113.9", now_ms=now)
    assert honest.status == PlaceStatus.WAITING


def test_places_still_waiting_count_against_the_turns(owner, redis_conn) -> None:
    sale = make_sale(owner, live=True, admission_rate=1, admissions_per_address=2)
    now = redis_now_ms(redis_conn)
    statuses = [
        queue_join(sale_id=sale.pk, shopper=f"s{n}", client_address="192.0.2.1", now_ms=now).status
        for n in range(3)
    ]
    assert statuses == [PlaceStatus.WAITING, PlaceStatus.WAITING, PlaceStatus.ADDRESS_DONE]
    # A refresh of a place already held is not a new turn.
    assert queue_join(sale_id=sale.pk, shopper="s0", client_address="192.0.2.1", now_ms=now).status == (
        PlaceStatus.WAITING
    )
