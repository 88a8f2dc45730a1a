"""The waiting room's pages (mounted by flux_admin/urls.py)."""

from __future__ import annotations

from django.urls import path

from waitingroom.views import waiting_room

urlpatterns = [
    path("waiting-room/<int:sale_id>/", waiting_room, name="waiting-room"),
]
