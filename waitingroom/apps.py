from __future__ import annotations

from django.apps import AppConfig


class WaitingRoomConfig(AppConfig):
    name = "waitingroom"
    default_auto_field = "django.db.models.BigAutoField"
