"""Draw bench-results/latest.json as an SVG: each phase's measured figure against
its target, for throughput and for p99 latency. No plotting library needed.

    .venv/bin/python bench/plot.py [results.json] [out.svg]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BAR_WIDTH = 360
ROW = 34


def bar_rows(
    phases: list[dict], value: str, target: str, unit: str, higher_is_better: bool, top: int
) -> list[str]:
    scale = max(max(p[value] for p in phases), max(p[target] for p in phases)) * 1.15
    parts = []
    for index, phase in enumerate(phases):
        y = top + index * ROW
        width = BAR_WIDTH * phase[value] / scale
        goal_x = 230 + BAR_WIDTH * phase[target] / scale
        ok = phase[value] >= phase[target] if higher_is_better else phase[value] <= phase[target]
        colour = "#2e7d32" if ok else "#c62828"
        parts += [
            f'<text x="220" y="{y + 17}" text-anchor="end" font-size="13">{phase["name"]}</text>',
            f'<rect x="230" y="{y + 4}" width="{width:.1f}" height="20" fill="{colour}" opacity="0.85"/>',
            f'<line x1="{goal_x:.1f}" y1="{y}" x2="{goal_x:.1f}" y2="{y + 28}" stroke="#111" stroke-width="2" stroke-dasharray="4 2"/>',
            f'<text x="{230 + width + 6:.1f}" y="{y + 19}" font-size="12">{phase[value]:,.1f} {unit}</text>',
        ]
    return parts


def main() -> None:
    source = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "bench-results" / "latest.json"
    target = Path(sys.argv[2]) if len(sys.argv) > 2 else ROOT / "docs" / "benchmarks.svg"
    results = json.loads(source.read_text())
    phases = results["phases"]
    for phase in phases:
        phase["rps_k"] = phase["rps"] / 1000
        phase["target_k"] = phase["target_rps"] / 1000
    height = 90 + 2 * (len(phases) * ROW + 40)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="720" height="{height}" font-family="sans-serif">',
        '<rect width="100%" height="100%" fill="white"/>',
        f'<text x="16" y="26" font-size="16" font-weight="bold">make bench — commit {results["commit"]}, '
        f"wrk -c{results['connections']} -d{results['seconds']}s, 2 cores</text>",
        '<text x="16" y="46" font-size="12">bars: measured (green = target met); dashed line: target</text>',
        '<text x="16" y="76" font-size="14" font-weight="bold">throughput (thousand per second, higher is better)</text>',
    ]
    parts += bar_rows(phases, "rps_k", "target_k", "k/s", True, 86)
    second = 86 + len(phases) * ROW + 34
    parts.append(
        f'<text x="16" y="{second - 10}" font-size="14" font-weight="bold">p99 latency (ms, lower is better)</text>'
    )
    parts += bar_rows(phases, "p99_ms", "target_p99_ms", "ms", False, second)
    parts.append("</svg>")
    target.write_text("\n".join(parts) + "\n")
    print(f"wrote {target}")


if __name__ == "__main__":
    main()
