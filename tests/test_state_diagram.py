"""README's state diagram is the status machine the code runs: every arrow it
draws is a move of sales.services.TRANSITIONS (or the restock that reopens a
sold-out sale), and every such move is drawn."""

from __future__ import annotations

import re
from pathlib import Path

from sales.models import SaleStatus
from sales.services import TRANSITIONS

README = Path(__file__).resolve().parent.parent / "README.md"


def drawn_moves() -> set[tuple[str, str, str]]:
    text = README.read_text()
    diagram = text[text.index("stateDiagram-v2") : text.index("```", text.index("stateDiagram-v2"))]
    return {
        (source, target, action)
        for source, target, action in re.findall(r"^\s*(\w+) --> (\w+): (\w+)\s*$", diagram, re.M)
    }


def test_readme_draws_exactly_the_transition_table() -> None:
    moves = {
        (source, target, action)
        for action, (sources, target) in TRANSITIONS.items()
        if target is not None  # re-arm keeps the status: no arrow
        for source in sources
    }
    moves.add((SaleStatus.SOLD_OUT, SaleStatus.LIVE, "restock"))  # sale_restock reopens a sold-out sale
    assert drawn_moves() == {(str(s), str(t), a) for s, t, a in moves}
