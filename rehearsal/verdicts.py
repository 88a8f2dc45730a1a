"""A rehearsal's verdicts: each pass or fail with the figure it stands on. Pure: the
crowd's results (rehearsal/locustfile.py) and the sale's books (GET .../books) in,
verdicts out."""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass
from typing import Any

from rehearsal.plan import LATENCIES, Thresholds

ACCEPTED = ("accepted", "accepted_pending")
CHAOS_GRACE_SECONDS = 5  # after a piece is back, answers may still be what its absence caused
TAU_SAMPLE = 2000  # Kendall's tau is O(n²): past this many admissions, a seeded sample


@dataclass(frozen=True)
class Verdict:
    name: str
    passed: bool
    figure: str  # what was measured, in words
    threshold: str  # what passes
    measured: bool = True  # False: nothing to judge in this run (nobody waited in the line, say)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def kendall_tau(pairs: list[tuple[float, float]]) -> float | None:
    """Kendall's rank correlation of (x, y) pairs over the pairs ordered both ways:
    1 when y orders them as x does, -1 reversed. A pair tied in either (shoppers let in
    by the same admission tick) counts for neither, so a line admitted in perfect order
    scores 1 however many it lets in at once (Goodman and Kruskal's gamma). None when
    no pair is ordered both ways."""
    concordant = discordant = 0
    for i, (xi, yi) in enumerate(pairs):
        for xj, yj in pairs[i + 1 :]:
            order = (xi - xj) * (yi - yj)
            if order > 0:
                concordant += 1
            elif order < 0:
                discordant += 1
    ordered = concordant + discordant
    return (concordant - discordant) / ordered if ordered else None


def percentile(counts: dict[int, int], share: float) -> int | None:
    """The value below which `share` of the counted values fall ({value: count})."""
    total = sum(counts.values())
    if not total:
        return None
    seen = 0
    for value in sorted(counts):
        seen += counts[value]
        if seen >= share * total:
            return value
    return max(counts)


def in_chaos(second: int, chaos: dict[str, Any] | None) -> bool:
    """Whether an answer at `second` (unix) falls in the chaos window (when the piece
    was stopped, to when it was started again, or for good) or its grace after."""
    if chaos is None or chaos.get("stopped_at") is None:
        return False
    ends = chaos.get("started_at")
    return chaos["stopped_at"] <= second + 1 and (ends is None or second <= ends + CHAOS_GRACE_SECONDS)


def judge(
    results: dict[str, Any],
    books: dict[str, Any] | None,
    thresholds: Thresholds,
    chaos: dict[str, Any] | None,
) -> list[Verdict]:
    """The verdicts of one rehearsal."""
    plan, shoppers = results["plan"], results["shoppers"]
    quantity = (
        books["quantity"] if books else max((p.get("quantity", 0) for p in results["timeline"]), default=0)
    )
    accepted = {s["order_id"] for s in shoppers if s["outcome"] in ACCEPTED and s.get("order_id")}
    verdicts = [
        _sold(books, quantity, plan["shoppers"], results["timeline"], len(accepted)),
        _persisted_once(books, len(accepted)),
        _one_outcome_per_key(shoppers),
        _admission_order(shoppers, thresholds.tau, plan["seed"]),
        _updates(shoppers, thresholds.update_ms),
        _journeys(shoppers),
    ]
    verdicts += _answers(results, thresholds.p99_ms, chaos)
    return verdicts


def _sold(books: dict | None, quantity: int, demand: int, timeline: list[dict], accepted: int) -> Verdict:
    expected = min(quantity, demand)
    most = max([p["sold"] for p in timeline if "sold" in p] + [(books["sold"] or 0) if books else 0])
    sold = books["sold"] if books else None
    above = max(most, accepted) > quantity
    passed = not above and sold == expected
    figure = (
        f"sold {sold} of {quantity} to a demand of {demand}; at most {most} sold at any second; "
        f"{accepted} orders accepted by the crowd"
    )
    return Verdict(
        "sold = min(stock, demand), never above stock",
        passed,
        figure,
        f"sold = {expected}, never > {quantity}",
    )


def _persisted_once(books: dict | None, accepted: int) -> Verdict:
    if books is None:
        return Verdict(
            "every accepted order persisted exactly once",
            False,
            "the books did not answer",
            "settled, drift 0",
        )
    persisted = books["orders_persisted"]
    passed = bool(books["settled"]) and persisted == accepted
    figure = (
        f"{persisted} orders in PostgreSQL for {accepted} accepted; drift {books['drift']}, "
        f"anomalies {books['anomalies']}, settled {books['settled']}"
    )
    return Verdict(
        "every accepted order persisted exactly once",
        passed,
        figure,
        "persisted = accepted, settled, drift 0",
    )


def _one_outcome_per_key(shoppers: list[dict]) -> Verdict:
    replays = [s for s in shoppers if "replay" in s]
    differ = [
        s["who"]
        for s in replays
        if s["replay"]["status"] not in ACCEPTED or s["replay"]["order_id"] != s.get("order_id")
    ]
    figure = f"{len(replays)} accepted buys sent again with the same key; {len(differ)} answered otherwise"
    return Verdict("one outcome per idempotency key", not differ, figure, "0 answered otherwise")


def _admission_order(shoppers: list[dict], threshold: float, seed: int) -> Verdict:
    # Join order: the ticket the server gave (after a pre-queue's draw, the drawn one).
    # Admission order: the server's time of the tick current when the server first said
    # the shopper was in (shoppers in by the same tick tie).
    admitted = [(s["ticket"], s["turn_ms"]) for s in shoppers if s.get("ticket") and s.get("turn_ms")]
    name = "admission order = join order"
    if len(admitted) < 3:
        return Verdict(
            name,
            True,
            f"not measured: {len(admitted)} shoppers admitted from the line",
            f"tau >= {threshold}",
            False,
        )
    sample = admitted if len(admitted) <= TAU_SAMPLE else random.Random(seed).sample(admitted, TAU_SAMPLE)
    tau = kendall_tau(sample)
    if tau is None:  # every pair tied: all let in by one tick, nothing to order
        figure = f"not measured: the {len(sample)} shoppers watched were let in by one tick"
        return Verdict(name, True, figure, f"tau >= {threshold}", False)
    figure = (
        f"Kendall's tau {tau:.3f} over {len(sample)} admissions (ticket against the tick in which the "
        "server said they were in, for shoppers watching the line by websocket)"
    )
    return Verdict(name, tau >= threshold, figure, f"tau >= {threshold}")


def _updates(shoppers: list[dict], threshold_ms: float) -> Verdict:
    ages: dict[int, int] = {}
    for shopper in shoppers:
        for age in shopper.get("update_ms") or ():
            ages[age] = ages.get(age, 0) + 1
    name = "waiting-room updates reach the page"
    p99 = percentile(ages, 0.99)
    if p99 is None:
        return Verdict(
            name, True, "not measured: nobody waited in the line", f"p99 <= {threshold_ms:.0f} ms", False
        )
    figure = f"p99 {p99} ms, most {max(ages)} ms, over {sum(ages.values())} updates"
    return Verdict(name, p99 <= threshold_ms, figure, f"p99 <= {threshold_ms:.0f} ms")


def _journeys(shoppers: list[dict]) -> Verdict:
    broken = [s for s in shoppers if s["outcome"] == "error"]
    errors: dict[str, int] = {}
    for shopper in broken:
        errors[shopper.get("error", "?")] = errors.get(shopper.get("error", "?"), 0) + 1
    figure = f"{len(broken)} of {len(shoppers)} journeys broke"
    if errors:
        figure += "; most often: " + max(errors, key=errors.__getitem__)
    return Verdict("every shopper's journey ends in an answer", not broken, figure, "0 broke")


def _answers(results: dict[str, Any], threshold_ms: float, chaos: dict[str, Any] | None) -> list[Verdict]:
    seconds = {int(second): bucket for second, bucket in results["seconds"].items()}
    every: dict[int, int] = {}
    buys: dict[int, int] = {}
    total = failed = failed_in_chaos = 0
    for second, bucket in seconds.items():
        for times, counted in ((every, bucket["ms"]), (buys, bucket.get("buy_ms", {}))):
            for ms, n in counted.items():
                times[int(ms)] = times.get(int(ms), 0) + n
        total += sum(n for kind, n in bucket.items() if kind not in LATENCIES)
        bad = bucket.get("5xx", 0) + bucket.get("error", 0)
        if in_chaos(second, chaos):
            failed_in_chaos += bad
        else:
            failed += bad
    p99 = percentile(buys, 0.99)
    return [
        Verdict(
            "p99 of a buy's answer",
            p99 is not None and p99 <= threshold_ms,
            f"buys: p99 {p99} ms over {sum(buys.values())}; every answer (pages, proofs, the line): "
            f"p99 {percentile(every, 0.99)} ms over {total}",
            f"<= {threshold_ms:.0f} ms",
        ),
        Verdict(
            "no 5xx outside a chaos window",
            failed == 0,
            f"{failed} 5xx or failed connections outside, {failed_in_chaos} inside the chaos window",
            "0 outside",
        ),
    ]
