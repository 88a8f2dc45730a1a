"""What the proof of work costs a shopper's page: proof.js solving real challenges in chromium.

    .venv/bin/python bench/proof_cost.py      (make bench-proof; a part of make bench)

Playwright drives Debian's chromium (it cannot download its own browser here) on a
blank page holding waitingroom/static/waitingroom/proof.js, nothing else: no
server, no Redis, no Kafka. For each CPU throttling rate (Chrome DevTools' own
emulation: 4× is its mid-tier mobile, 6× its low-end mobile) and each difficulty
in BITS it solves fresh challenges from waitingroom.proof.challenge_new, timing
each inside the page (performance.now() around FluxProof.solve, so Playwright's
round trip is not counted), and checks every nonce with proof.work_done.

The hashes one challenge needs are a geometric draw with mean 2**bits, so the
median of a dozen solves wanders; hashes/s (all hashes / all time) is steady, and
the expected seconds, 2**bits / hashes/s, are the figure to quote. Throttling
slows this machine's CPU, not a phone's: the rates model a slower device, they
are not one.

A cell whose estimate would run past BENCH_PROOF_BUDGET seconds of solving is
skipped (said in the output), so the script stays within a few minutes on two
cores. It prints, and writes to bench-results/: proof_cost.json, proof_cost.md
and proof_cost.png (drawn as SVG, as bench/plot.py does, and rendered to PNG by
the same chromium: the project has no plotting library).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from math import ceil, floor, log10
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "flux_admin.settings")

import django  # noqa: E402

django.setup()

from playwright.sync_api import CDPSession, Page, sync_playwright  # noqa: E402
from run import RESULTS, log  # noqa: E402  (bench/, this script's folder)

from waitingroom.proof import challenge_new, work_done  # noqa: E402

CHROMIUM = os.environ.get("FLUX_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
PROOF_JS = ROOT / "waitingroom" / "static" / "waitingroom" / "proof.js"
RATES = {1: "this machine", 4: "DevTools' mid-tier mobile", 6: "DevTools' low-end mobile"}
# Challenges per cell: fewer where each one takes seconds.
BITS = {12: 20, 14: 20, 16: 16, 18: 16, 20: 12}
BUDGET_SECONDS = float(os.environ.get("BENCH_PROOF_BUDGET", "180"))
# The sum of a dozen geometric draws still lands up to ~1.5x its mean: the skip allows for that.
ESTIMATE_MARGIN = 1.5
SALE_ID = 1

# One challenge, timed in the page: what the shopper's tab spends, event-loop turns included.
SOLVE_TIMED = """async ([challenge, bits]) => {
  const started = performance.now();
  const nonce = await window.FluxProof.solve(challenge, bits);
  return { nonce: nonce, ms: performance.now() - started };
}"""


@dataclass
class Cell:
    rate: int
    bits: int
    seconds: list[float] = field(default_factory=list)
    hashes: list[int] = field(default_factory=list)
    skipped: str = ""  # why, when it was not measured

    @property
    def measured(self) -> bool:
        return bool(self.seconds)

    @property
    def hashes_per_s(self) -> float:
        return sum(self.hashes) / sum(self.seconds)

    @property
    def expected_s(self) -> float:
        """The mean cost of a challenge at this speed: steadier than the median of a few draws."""
        return 2**self.bits / self.hashes_per_s

    @property
    def median_s(self) -> float:
        return statistics.median(self.seconds)

    @property
    def p90_s(self) -> float:
        return statistics.quantiles(self.seconds, n=10, method="inclusive")[8]

    def summary(self) -> dict:
        figures = (
            {
                "median_s": self.median_s,
                "p90_s": self.p90_s,
                "hashes_per_s": self.hashes_per_s,
                "expected_s": self.expected_s,
            }
            if self.measured
            else {}
        )
        return {**asdict(self), "n": len(self.seconds), **figures}


def solve_one(page: Page, bits: int) -> tuple[float, int]:
    """Seconds and hashes for one fresh challenge; a nonce that does not do the work stops the run."""
    challenge = challenge_new(sale_id=SALE_ID, bits=bits)
    answer = page.evaluate(SOLVE_TIMED, [challenge, bits])
    nonce = answer["nonce"]
    done = work_done(challenge, nonce)
    if done < bits:
        raise SystemExit(
            f"proof.js answered nonce {nonce!r} for {challenge!r}: {done} zero bits, {bits} needed"
        )
    return answer["ms"] / 1000, int(nonce) + 1  # nonces count from "0"


def measure(page: Page, cdp: CDPSession, deadline: float) -> list[Cell]:
    """Every (rate, bits) cell in turn; each cell's cost is estimated from the speed of
    the one before it at the same rate, and skipped if it would pass the deadline."""
    cells = []
    for rate, device in RATES.items():
        cdp.send("Emulation.setCPUThrottlingRate", {"rate": rate})
        log(f"proof cost: {rate}× CPU throttling ({device})")
        speed = 0.0
        for bits, count in BITS.items():
            cell = Cell(rate=rate, bits=bits)
            cells.append(cell)
            estimate = count * 2**bits / speed if speed else 0.0
            left = deadline - time.monotonic()
            if estimate * ESTIMATE_MARGIN > left:
                cell.skipped = (
                    f"~{estimate:.0f} s for {count} challenges, {max(left, 0):.0f} s of budget left"
                )
                log(f"  {bits} bits: skipped ({cell.skipped})")
                continue
            for _ in range(count):
                seconds, hashes = solve_one(page, bits)
                cell.seconds.append(seconds)
                cell.hashes.append(hashes)
            speed = cell.hashes_per_s
            log(
                f"  {bits} bits: {count} solved, median {cell.median_s:.3f} s, p90 {cell.p90_s:.3f} s, "
                f"{speed:,.0f} hashes/s, expected {cell.expected_s:.3f} s"
            )
    return cells


def warm_up(page: Page) -> None:
    """Unmeasured solves first, so that V8's optimising compiler has compiled the hashing
    loop before the cheapest cells are timed (they last milliseconds)."""
    for _ in range(3):
        solve_one(page, 16)


def seconds_label(seconds: float) -> str:
    return f"{seconds * 1000:g} ms" if seconds < 1 else f"{seconds:g} s"


def plot_svg(cells: list[Cell], title: str) -> str:
    """Expected seconds against bits, one line per throttling rate, log-scale seconds.
    SVG by hand, as bench/plot.py draws: no plotting library in the project."""
    width, height, left, right, top, bottom = 720, 440, 80, 190, 56, 56
    measured = [c for c in cells if c.measured]
    bits = sorted(BITS)
    low = floor(log10(min(c.expected_s for c in measured)))
    high = ceil(log10(max(c.expected_s for c in measured)))

    def x(b: int) -> float:
        return left + (width - left - right) * (b - bits[0]) / (bits[-1] - bits[0])

    def y(seconds: float) -> float:
        return top + (height - top - bottom) * (high - log10(seconds)) / (high - low)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif">',
        '<rect width="100%" height="100%" fill="white"/>',
        f'<text x="16" y="24" font-size="15" font-weight="bold">{title}</text>',
        '<text x="16" y="42" font-size="12">expected seconds per challenge = 2^bits / measured hashes/s</text>',
    ]
    for decade in range(low, high + 1):
        seconds = 10.0**decade
        parts += [
            f'<line x1="{left}" y1="{y(seconds):.1f}" x2="{width - right}" y2="{y(seconds):.1f}" stroke="#ddd"/>',
            f'<text x="{left - 8}" y="{y(seconds) + 4:.1f}" text-anchor="end" font-size="12">{seconds_label(seconds)}</text>',
        ]
    for b in bits:
        parts += [
            f'<line x1="{x(b):.1f}" y1="{top}" x2="{x(b):.1f}" y2="{height - bottom}" stroke="#eee"/>',
            f'<text x="{x(b):.1f}" y="{height - bottom + 18}" text-anchor="middle" font-size="12">{b}</text>',
        ]
    parts.append(
        f'<text x="{(left + width - right) / 2}" y="{height - 14}" text-anchor="middle" font-size="13">bits (2^bits hashes on average)</text>'
    )
    colours = ["#1565c0", "#ef6c00", "#c62828"]
    for index, (rate, device) in enumerate(RATES.items()):
        line = [c for c in measured if c.rate == rate]
        colour = colours[index % len(colours)]
        points = " ".join(f"{x(c.bits):.1f},{y(c.expected_s):.1f}" for c in line)
        parts.append(f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2"/>')
        parts += [
            f'<circle cx="{x(c.bits):.1f}" cy="{y(c.expected_s):.1f}" r="3.5" fill="{colour}"/>' for c in line
        ]
        legend_y = top + 10 + index * 38
        parts += [
            f'<line x1="{width - right + 16}" y1="{legend_y}" x2="{width - right + 40}" y2="{legend_y}" stroke="{colour}" stroke-width="2"/>',
            f'<text x="{width - right + 46}" y="{legend_y + 4}" font-size="12">{rate}× throttling</text>',
            f'<text x="{width - right + 46}" y="{legend_y + 19}" font-size="11" fill="#555">{device}</text>',
        ]
    parts.append("</svg>")
    return "\n".join(parts)


def render_png(page: Page, svg: str, path: Path) -> None:
    page.set_content(f'<html><body style="margin:0">{svg}</body></html>')
    page.locator("svg").screenshot(path=str(path))


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return "unknown"


def command() -> str:
    python = Path(sys.executable)
    shown = python.relative_to(ROOT) if python.is_relative_to(ROOT) else python
    script = Path(sys.argv[0]).resolve()
    return " ".join(
        [str(shown), str(script.relative_to(ROOT) if script.is_relative_to(ROOT) else script), *sys.argv[1:]]
    )


def markdown(cells: list[Cell], about: dict) -> str:
    lines = [
        "# What the proof of work costs a shopper's page",
        "",
        f"- command: `{about['command']}`",
        f"- date: {about['date']}",
        f"- commit: {about['commit']}",
        f"- CPU: {about['cpu']}, {about['cores']} cores; load average {about['load_before']} before, {about['load_after']} after",
        f"- browser: chromium {about['chromium']}, headless, CPU throttled with `Emulation.setCPUThrottlingRate`",
        "",
        "Seconds are each solve's own, timed in the page; hashes/s is all hashes over all time; expected s = 2^bits / hashes/s.",
        "",
        "| throttling | bits | n | median s | p90 s | hashes/s | expected s |",
        "|---|---|---|---|---|---|---|",
    ]
    for c in cells:
        if c.measured:
            lines.append(
                f"| {c.rate}× | {c.bits} | {len(c.seconds)} | {c.median_s:.3f} | {c.p90_s:.3f} "
                f"| {c.hashes_per_s:,.0f} | {c.expected_s:.3f} |"
            )
        else:
            lines.append(f"| {c.rate}× | {c.bits} | 0 | skipped: {c.skipped} | | | |")
    return "\n".join(lines) + "\n"


def main() -> int:
    if not Path(CHROMIUM).exists():
        raise SystemExit(f"{CHROMIUM} is missing: `make chromium` installs it (apt-get install chromium)")
    RESULTS.mkdir(exist_ok=True)
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    about = {
        "command": command(),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": commit,
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "load_before": " ".join(f"{n:.2f}" for n in os.getloadavg()),
    }
    deadline = time.monotonic() + BUDGET_SECONDS
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            about["chromium"] = browser.version
            context = browser.new_context()
            page = context.new_page()
            page.set_content("<html></html>")
            page.add_script_tag(path=str(PROOF_JS))
            cdp = context.new_cdp_session(page)
            log(f"proof cost: chromium {browser.version}, {about['cpu']}, load {about['load_before']}")
            warm_up(page)
            cells = measure(page, cdp, deadline)
            about["load_after"] = " ".join(f"{n:.2f}" for n in os.getloadavg())
            title = f"proof.js in chromium {browser.version.split('.')[0]}, commit {commit}, {about['cpu']}"
            render_png(context.new_page(), plot_svg(cells, title), RESULTS / "proof_cost.png")
        finally:
            browser.close()

    table = markdown(cells, about)
    (RESULTS / "proof_cost.md").write_text(table)
    (RESULTS / "proof_cost.json").write_text(
        json.dumps({**about, "cells": [c.summary() for c in cells]}, indent=1)
    )
    print()
    print(table)
    print("(also in bench-results/proof_cost.json, proof_cost.md, proof_cost.png)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
