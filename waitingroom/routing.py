"""The waiting room's websocket routes, under /ws/ (mounted by flux_admin/routing.py)."""

from __future__ import annotations

websocket_urlpatterns: list = []  # the live queue's consumer arrives with the waiting room (issue 11)
