"""Group commit (orders/buy/group.py): the buys of a sale that reach a process while
its previous call of buy.lua is in flight are decided by one call, each exactly as
if alone, in the order they arrived; every waiting buy gets its own result."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import pytest

from orders.buy import decision
from orders.buy.group import GroupCommit
from sales.keys import accepted_keys_key
from sales.live import live_state
from tests.factories import make_sale
from tests.support.orders import orders_on_topic

pytestmark = pytest.mark.django_db


# --- the mechanism alone (a pure function stands in for the call) --------------------


def test_buys_arriving_during_a_call_go_together_in_the_next_in_arrival_order() -> None:
    calls: list[list[str]] = []
    first_call_started, release_first_call = threading.Event(), threading.Event()

    def run(sale_id: int, keys: Sequence[str], args: Sequence[object]) -> list:
        calls.append(list(keys))
        if len(calls) == 1:
            first_call_started.set()
            release_first_call.wait(5)
        return [f"{sale_id}:{key}:{arg}" for key, arg in zip(keys, args, strict=True)]

    group = GroupCommit(run)
    with ThreadPoolExecutor(6) as pool:
        first = pool.submit(group.decide, 1, "a", ["arg-a"])
        first_call_started.wait(5)
        later = []
        for key in "bcde":  # arrive one after another while "a" is in flight
            later.append(pool.submit(group.decide, 1, key, [f"arg-{key}"]))
            time.sleep(0.05)
        other_sale = pool.submit(group.decide, 2, "x", ["arg-x"])  # not held up by sale 1
        assert other_sale.result(5) == "2:x:arg-x"
        release_first_call.set()
        assert first.result(5) == "1:a:arg-a"
        assert [f.result(5) for f in later] == [f"1:{k}:arg-{k}" for k in "bcde"]
    assert calls == [["a"], ["x"], ["b", "c", "d", "e"]]


def test_a_failed_call_fails_every_buy_of_its_group_and_the_next_group_still_runs() -> None:
    started, release = threading.Event(), threading.Event()
    calls = []

    def run(sale_id: int, keys: Sequence[str], args: Sequence[object]) -> list:
        calls.append(list(keys))
        if len(calls) == 1:
            started.set()
            release.wait(5)
            return ["ok"]
        if len(calls) == 2:
            raise ConnectionError("redis went away")
        return ["ok"] * len(keys)

    group = GroupCommit(run)
    with ThreadPoolExecutor(4) as pool:
        first = pool.submit(group.decide, 1, "a", [0])
        started.wait(5)
        doomed = [pool.submit(group.decide, 1, key, [0]) for key in "bc"]
        time.sleep(0.1)
        release.set()
        assert first.result(5) == "ok"
        for future in doomed:
            with pytest.raises(ConnectionError):
                future.result(5)
    assert group.decide(1, "d", [0]) == "ok"  # nothing left stuck in flight


def test_a_call_that_answers_the_wrong_number_of_results_fails_its_group_not_the_next() -> None:
    started, release = threading.Event(), threading.Event()
    slow = GroupCommit(lambda sale_id, keys, args: (started.set(), release.wait(5), ["x"] * len(keys))[2])
    with ThreadPoolExecutor(3) as pool:  # a group of two gets one result: both fail, none hangs
        first = pool.submit(slow.decide, 1, "a", [0])
        started.wait(5)
        pair = [pool.submit(slow.decide, 1, key, [0]) for key in "bc"]
        time.sleep(0.1)
        slow._run = lambda sale_id, keys, args: ["one"]  # the next call answers one result for two
        release.set()
        assert first.result(5) == "x"
        for future in pair:
            with pytest.raises(ValueError):
                future.result(5)
    assert slow.decide(1, "d", [0]) == "one"  # nothing left in flight: the next buy is decided


# --- against the real Redis and Kafka ---------------------------------------------------


def test_a_crowd_in_one_process_sells_exactly_the_stock_in_groups(owner, monkeypatch) -> None:
    sizes: list[int] = []
    real_run = decision._run_group

    def counted(sale_id: int, keys: Sequence[str], args: Sequence[object]) -> list:
        sizes.append(len(keys))
        return real_run(sale_id, keys, args)

    group = GroupCommit(counted)
    monkeypatch.setattr(decision, "_groups", lambda: group)
    sale = make_sale(owner, live=True, quantity=150, per_user_limit=1, rate=1_000_000, burst=1_000_000)
    shoppers = [f"shopper-{n}" for n in range(400)]
    keys = {shopper: uuid.uuid4().hex for shopper in shoppers}
    barrier = threading.Barrier(32)

    def buy(chunk: list[str]) -> list[tuple[str, decision.BuyResult]]:
        barrier.wait()
        return [
            (
                shopper,
                decision.buy(sale_id=sale.pk, user_id=shopper, quantity=1, idempotency_key=keys[shopper]),
            )
            for shopper in chunk
        ]

    with ThreadPoolExecutor(32) as pool:
        results = [r for part in pool.map(buy, [shoppers[i::32] for i in range(32)]) for r in part]

    outcomes = Counter(result.outcome for _, result in results)
    assert outcomes["accepted"] + outcomes["accepted_pending"] == 150, outcomes
    assert outcomes["sold_out"] == 250, outcomes
    assert max(sizes) > 1, sizes  # groups formed: fewer calls than buys
    state = live_state(sale.pk)
    assert (state.remaining, state.sold) == (0, 150)

    # Each key has one outcome: asked again, every shopper gets the same answer.
    decision.forget_sold_out_flags()
    for shopper, first in results:
        again = decision.buy(sale_id=sale.pk, user_id=shopper, quantity=1, idempotency_key=keys[shopper])
        if first.outcome == "sold_out":
            assert again.outcome == "sold_out"
        else:  # accepted (or accepted, pending): the same order
            assert again.outcome == "accepted"
            assert json.loads(again.body)["order_id"] == json.loads(first.body)["order_id"]
    # One order message per unit, and the accepted keys are exactly the buyers told so.
    accepted = {shopper for shopper, result in results if result.outcome != "sold_out"}
    assert len(orders_on_topic(sale.pk)) == 150
    assert len(accepted) == 150


def test_a_group_against_a_sold_out_sale_sends_the_accepted_keys_once(owner, redis_conn) -> None:
    sale = make_sale(owner, live=True, quantity=1, rate=1_000_000, burst=1_000_000)
    assert decision.buy(sale_id=sale.pk, user_id="first", quantity=1, idempotency_key="k-first").outcome == (
        "accepted"
    )
    results = decision._run_group(
        sale.pk,
        ["k-1", "k-2", "k-3"],
        [arg for n in (1, 2, 3) for arg in (f"o-{n}", f"u-{n}", 1, "f", f"k-{n}", sale.pk, "", "", "", "")],
    )
    assert [r[0] for r in results] == [b"sold_out"] * 3
    assert results[0][1] == [b"k-first"] == list(redis_conn.smembers(accepted_keys_key(sale.pk)))
    assert [r[1] for r in results[1:]] == [None, None]  # false in Lua: once per group is enough
