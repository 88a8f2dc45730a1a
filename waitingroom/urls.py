"""The shopper's pages and the waiting room's endpoints (mounted by flux_admin/urls.py)."""

from __future__ import annotations

from django.urls import path

from waitingroom.views import (
    receipt_page,
    sale_page,
    shopper_proof,
    waiting_room,
    waiting_room_admission,
    waiting_room_status,
)

urlpatterns = [
    path("sales/<int:sale_id>/", sale_page, name="sale-page"),
    path("sales/<int:sale_id>/shopper.json", shopper_proof, name="shopper-proof"),
    path("sales/<int:sale_id>/orders/<uuid:order_id>/", receipt_page, name="receipt"),
    path("waiting-room/<int:sale_id>/", waiting_room, name="waiting-room"),
    path("waiting-room/<int:sale_id>/status.json", waiting_room_status, name="waiting-room-status"),
    path("waiting-room/<int:sale_id>/admission.json", waiting_room_admission, name="waiting-room-admission"),
]
