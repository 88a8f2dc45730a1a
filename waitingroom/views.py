"""The waiting room page the buy API's 302 points to (a plain page for now)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def waiting_room(request: HttpRequest, sale_id: int) -> HttpResponse:
    return render(request, "waitingroom/room.html", {"sale_id": sale_id, "retry_seconds": 2})
