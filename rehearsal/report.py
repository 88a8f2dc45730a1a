"""A rehearsal's report: report.json (the figures, second by second, the verdicts,
the books, the chaos window) and report.html, the same drawn with uPlot (the
dashboard's vendored copy, inlined: the file opens anywhere, offline)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.contrib.staticfiles import finders
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe

from rehearsal.verdicts import Verdict, percentile

KINDS = ("2xx", "3xx", "4xx", "5xx", "error")


def series(results: dict[str, Any]) -> dict[str, list]:
    """Second by second from the first answer to the last: answers by kind, p50 and p99
    (ms), and the sale's figures sampled then (sold, quantity, waiting; None if unread)."""
    seconds = {int(second): bucket for second, bucket in results["seconds"].items()}
    sampled = {int(point["t"]): point for point in results["timeline"]}
    known = list(seconds) + list(sampled)
    if not known:
        return {"t": []}
    span = range(min(known), max(known) + 1)
    out: dict[str, list] = {"t": list(span)}
    for kind in KINDS:
        out[kind] = [seconds.get(second, {}).get(kind, 0) for second in span]
    for share, name in ((0.5, "p50"), (0.99, "p99")):
        out[name] = [
            percentile({int(k): v for k, v in seconds.get(s, {"ms": {}})["ms"].items()}, share) for s in span
        ]
    for name in ("sold", "quantity", "waiting"):
        out[name] = [sampled.get(second, {}).get(name) for second in span]
    return out


def report_write(
    out: Path,
    *,
    results: dict[str, Any],
    books: dict[str, Any] | None,
    verdicts: list[Verdict],
    chaos: dict[str, Any] | None,
) -> tuple[Path, Path]:
    """Write report.json and report.html into `out`; their paths."""
    outcomes: dict[str, int] = {}
    for shopper in results["shoppers"]:
        outcomes[shopper["outcome"]] = outcomes.get(shopper["outcome"], 0) + 1
    data = {
        "plan": results["plan"],
        "verdicts": [verdict.to_dict() for verdict in verdicts],
        "passed": all(verdict.passed for verdict in verdicts),
        "books": books,
        "chaos": chaos,
        "outcomes": dict(sorted(outcomes.items(), key=lambda item: -item[1])),
        "series": series(results),
    }
    json_path = out / "report.json"
    json_path.write_text(json.dumps(data, indent=1))
    html = render_to_string(
        "rehearsal/report.html",
        {
            "data": data,
            "data_json": mark_safe(json.dumps(data).replace("</", "<\\/")),
            "uplot_js": mark_safe(Path(finders.find("dashboard/vendor/uplot/uPlot.iife.min.js")).read_text()),
            "uplot_css": mark_safe(Path(finders.find("dashboard/vendor/uplot/uPlot.min.css")).read_text()),
        },
    )
    html_path = out / "report.html"
    html_path.write_text(html)
    return html_path, json_path
