"""Who may watch which dashboard: a signed-in merchant (staff, active) their own
sales, an operator (sales.merchants.can_see_all) every merchant's. The pages and
the websockets ask here; another merchant's sale is "not found", like a missing one."""

from __future__ import annotations

from typing import Any

from sales.models import Sale
from sales.selectors import sale_list
from waitingroom.admitter import sales_to_tick


def may_use_console(user: Any) -> bool:
    """Signed in to the merchant console (the admin's own rule: active staff)."""
    return bool(user is not None and user.is_authenticated and user.is_active and user.is_staff)


def watchable_sale(*, user: Any, sale_id: int) -> Sale | None:
    """The sale if this user may watch its dashboard, else None."""
    if not may_use_console(user):
        return None
    return sale_list(user=user).filter(pk=sale_id).first()


def watchable_live_sales(*, user: Any) -> list[Sale]:
    """The sales on the user's overview: those the ticker ticks (open, or ended a
    minute ago) that the user may see, oldest first."""
    if not may_use_console(user):
        return []
    return list(sale_list(user=user).filter(pk__in=sales_to_tick()).order_by("pk"))
