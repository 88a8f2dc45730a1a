"""A rehearsal's verdicts, plan and figures as pure functions (rehearsal/verdicts.py,
rehearsal/plan.py): each verdict fails on the figure that should fail it."""

from __future__ import annotations

import random
from typing import Any

import pytest

from rehearsal.plan import Chaos, Plan, Seconds, Thresholds, arrival_offset, chaos_parse, shopper_draw
from rehearsal.verdicts import in_chaos, judge, kendall_tau, percentile


def test_kendall_tau_orders_and_ties() -> None:
    assert kendall_tau([(1, 10), (2, 20), (3, 30)]) == 1
    assert kendall_tau([(1, 30), (2, 20), (3, 10)]) == -1
    assert kendall_tau([(1, 1)]) is None
    assert kendall_tau([(1, 1), (2, 3), (3, 2), (4, 4)]) == pytest.approx(4 / 6)
    assert kendall_tau([(1, 5), (2, 5), (3, 6)]) == 1  # let in by one tick: a tie, no disorder
    assert kendall_tau([(1, 5), (2, 5)]) is None


def test_percentile_of_counts() -> None:
    assert percentile({}, 0.99) is None
    assert percentile({10: 98, 500: 2}, 0.5) == 10
    assert percentile({10: 98, 500: 2}, 0.99) == 500


def test_arrivals_follow_their_profile_and_the_seed() -> None:
    us = [random.Random(n).random() for n in range(2000)]
    assert max(arrival_offset("spike", 10, 0, u) for u in us) <= 1.0
    ramp = [arrival_offset("ramp", 10, 0, u) for u in us]
    assert sum(t > 5 for t in ramp) > 2.5 * sum(t <= 5 for t in ramp)  # three quarters in the second half
    assert all(-8 <= arrival_offset("prequeue", 10, 8, u) <= 0 for u in us)
    with pytest.raises(ValueError, match="unknown profile 'wave'"):
        arrival_offset("wave", 10, 0, 0.5)
    plan = Plan("http://x", 1, 10, "flat", 10, seed=7, start_at=0)
    assert shopper_draw(plan, 0, 3).random() == shopper_draw(plan, 0, 3).random()
    assert shopper_draw(plan, 0, 3).random() != shopper_draw(plan, 1, 3).random()


def test_chaos_specs() -> None:
    assert chaos_parse("consumer") == Chaos("consumer", 10.0, 10.0)
    assert chaos_parse("kafka:at=30s,for=5") == Chaos("kafka", 30.0, 5.0)
    assert chaos_parse("consumer:at=0s,for=end") == Chaos("consumer", 0.0, None)
    for bad, words in (
        ("mysql", "the piece is one of"),
        ("redis:when=3", "options are"),
        ("redis:at=soon", "give seconds"),
    ):
        with pytest.raises(ValueError, match=words):
            chaos_parse(bad)


def test_thresholds_file_names_an_unknown_one(tmp_path: Any) -> None:
    path = tmp_path / "t.json"
    path.write_text('{"p99_ms": 500, "tau": 0.8}')
    assert Thresholds.from_file(str(path)) == Thresholds(p99_ms=500, tau=0.8)
    path.write_text('{"p99": 500}')
    with pytest.raises(ValueError, match="unknown thresholds \\['p99'\\]"):
        Thresholds.from_file(str(path))


def test_seconds_merge_what_workers_send() -> None:
    one, two = Seconds(), Seconds()
    one.add(100, "2xx", 12)
    two.add(100, "2xx", 12)
    two.add(101, "5xx", 900)
    two.add(101, "2xx", 40, buy=True)
    one.merge(two.by_second)
    assert one.by_second == {
        100: {"ms": {12: 2}, "buy_ms": {}, "2xx": 2},
        101: {"ms": {900: 1, 40: 1}, "buy_ms": {40: 1}, "5xx": 1, "2xx": 1},
    }


def test_chaos_window_covers_its_grace() -> None:
    window = {"piece": "consumer", "stopped_at": 100.0, "started_at": 110.0}
    assert not in_chaos(98, window)
    assert in_chaos(100, window) and in_chaos(114, window)
    assert not in_chaos(116, window)
    assert in_chaos(10_000, {"piece": "consumer", "stopped_at": 100.0, "started_at": None})
    assert not in_chaos(100, None)


def _results(**changes: Any) -> dict[str, Any]:
    shoppers = [
        {
            "who": f"s{n}",
            "outcome": "accepted",
            "order_id": f"o{n}",
            "ticket": n + 1,
            "turn_ms": 1_000_000 + 1000 * n,
            "update_ms": [20, 30],
        }
        for n in range(5)
    ] + [{"who": f"late{n}", "outcome": "sold_out"} for n in range(10)]
    shoppers[0]["replay"] = {"status": "accepted", "order_id": "o0"}
    results = {
        "plan": {"shoppers": 15, "seed": 1, "start_at": 1000.0},
        "shoppers": shoppers,
        "seconds": {"1000": {"ms": {"15": 40}, "buy_ms": {"15": 20}, "2xx": 30, "4xx": 10}},
        "timeline": [{"t": 1000.0, "sold": 3, "quantity": 5}, {"t": 1001.0, "sold": 5, "quantity": 5}],
    }
    results.update(changes)
    return results


BOOKS = {"quantity": 5, "sold": 5, "orders_persisted": 5, "drift": 0, "anomalies": 0, "settled": True}


def _verdicts(results: dict, books: dict | None = BOOKS, chaos: dict | None = None) -> dict[str, Any]:
    return {verdict.name: verdict for verdict in judge(results, books, Thresholds(), chaos)}


def test_a_clean_rehearsal_passes_every_verdict() -> None:
    verdicts = _verdicts(_results())
    assert all(verdict.passed and verdict.measured for verdict in verdicts.values()), verdicts


def test_a_verdict_with_nothing_to_judge_says_so() -> None:
    nobody_waited = _results()
    for shopper in nobody_waited["shoppers"]:
        shopper.pop("ticket", None), shopper.pop("update_ms", None)
    verdicts = _verdicts(nobody_waited)
    for name in ("admission order = join order", "waiting-room updates reach the page"):
        assert not verdicts[name].measured and verdicts[name].figure.startswith("not measured")
    one_tick = _results()
    for shopper in one_tick["shoppers"][:5]:
        shopper["turn_ms"] = 1_000_000
    assert not _verdicts(one_tick)["admission order = join order"].measured


def test_each_verdict_fails_on_its_own_figure() -> None:
    oversold = _verdicts(_results(), {**BOOKS, "sold": 7, "quantity": 5})
    assert not oversold["sold = min(stock, demand), never above stock"].passed
    unsettled = _verdicts(_results(), {**BOOKS, "orders_persisted": 3, "drift": 2, "settled": False})
    assert not unsettled["every accepted order persisted exactly once"].passed
    assert (
        "3 orders in PostgreSQL for 5 accepted"
        in unsettled["every accepted order persisted exactly once"].figure
    )
    assert not _verdicts(_results(), None)["every accepted order persisted exactly once"].passed

    twice = _results()
    twice["shoppers"][0]["replay"] = {"status": "accepted", "order_id": "another"}
    assert not _verdicts(twice)["one outcome per idempotency key"].passed

    unfair = _results()
    for n, shopper in enumerate(unfair["shoppers"][:5]):
        shopper["turn_ms"] = 2_000_000 - 1000 * n  # the last to join let in first
    assert not _verdicts(unfair)["admission order = join order"].passed

    slow = _results()
    slow["shoppers"][1]["update_ms"] = [5000] * 10
    assert not _verdicts(slow)["waiting-room updates reach the page"].passed

    broken = _results()
    broken["shoppers"][7].update(outcome="error", error="KeyError: 'presence'")
    assert not _verdicts(broken)["every shopper's journey ends in an answer"].passed
    assert "KeyError: 'presence'" in _verdicts(broken)["every shopper's journey ends in an answer"].figure

    failing = _results(seconds={"1000": {"ms": {"3000": 40}, "buy_ms": {"3000": 5}, "5xx": 1, "2xx": 39}})
    verdicts = _verdicts(failing)
    assert not verdicts["p99 of a buy's answer"].passed
    assert not verdicts["no 5xx outside a chaos window"].passed
    inside = _verdicts(failing, chaos={"piece": "redis", "stopped_at": 999.5, "started_at": 1003.0})
    assert inside["no 5xx outside a chaos window"].passed
    assert "1 inside the chaos window" in inside["no 5xx outside a chaos window"].figure
