"""Flux-Gate's project package: settings and wiring only."""

from __future__ import annotations

from flux_admin.celery import app as celery_app

__all__ = ["celery_app"]
