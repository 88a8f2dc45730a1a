"""Websocket routes: each app's routing.py, mounted under /ws/."""

from __future__ import annotations

websocket_urlpatterns: list = []
