"""A rehearsal's HTML report (rehearsal/report.py) in chromium: one file that opens
offline, its verdicts in a table, and its three charts drawn by the inlined uPlot,
the chaos window shaded, without a console error."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.sync_api import Page, expect

from rehearsal.plan import Thresholds
from rehearsal.report import report_write
from rehearsal.verdicts import judge

START = 1_800_000_000.0


def _results() -> dict[str, Any]:
    seconds = {
        str(int(START) + n): {"ms": {"20": 50, str(40 + n): 5}, "buy_ms": {"30": 20}, "2xx": 40, "4xx": 15}
        for n in range(8)
    }
    seconds[str(int(START) + 3)]["5xx"] = 2  # in the chaos window below
    shoppers = [
        {
            "who": f"s{n}",
            "outcome": "accepted",
            "order_id": f"o{n}",
            "ticket": n + 1,
            "turn_ms": int(START * 1000) + 1000 * n,
        }
        for n in range(5)
    ] + [{"who": f"t{n}", "outcome": "sold_out", "update_ms": [30, 40]} for n in range(20)]
    timeline = [
        {"t": START + n, "sold": min(5, n), "quantity": 5, "waiting": max(0, 20 - 3 * n)} for n in range(8)
    ]
    plan = {
        "sale_id": 42,
        "shoppers": 25,
        "profile": "spike",
        "seconds": 3,
        "seed": 1,
        "start_at": START,
        "address": "http://127.0.0.1:8000",
        "workers": 2,
    }
    return {"plan": plan, "shoppers": shoppers, "seconds": seconds, "timeline": timeline}


def test_the_report_shows_its_verdicts_and_charts(page: Page, console_errors: Any, tmp_path: Path) -> None:
    results = _results()
    books = {"quantity": 5, "sold": 5, "orders_persisted": 5, "drift": 0, "anomalies": 0, "settled": True}
    chaos = {"piece": "consumer", "stopped_at": START + 2, "started_at": START + 4}
    verdicts = judge(results, books, Thresholds(), chaos)
    html, _ = report_write(tmp_path, results=results, books=books, verdicts=verdicts, chaos=chaos)

    page.goto(html.as_uri())
    expect(page).to_have_title("Rehearsal of sale 42: passed")
    rows = page.locator("#verdicts tbody tr")
    expect(rows).to_have_count(8)
    expect(rows.filter(has_text="no 5xx outside a chaos window")).to_contain_text("2 inside the chaos window")
    expect(page.locator("#outcomes")).to_contain_text("sold_out")
    for chart in ("answers", "stock", "latency"):
        expect(page.locator(f"#{chart}")).to_have_attribute("data-drawn", "true")
        expect(page.locator(f"#{chart} canvas")).to_have_count(1)
    # The chaos window is shaded: a pixel in it is painted, the same height outside it is not.
    inside, outside = page.evaluate(
        """() => {
          const canvas = document.querySelector('#answers canvas');
          const alpha = (x) => canvas.getContext('2d').getImageData(x, Math.round(canvas.height * 0.45), 1, 1).data[3];
          return [alpha(Math.round(canvas.width * 0.5)), alpha(Math.round(canvas.width * 0.9))];
        }"""
    )
    assert inside > 0 and outside == 0, (inside, outside)
