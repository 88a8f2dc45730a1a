"""Celery tasks: thin wrappers over sales.services."""

from __future__ import annotations

from celery import shared_task

from sales.services import sales_sweep


@shared_task(name="sales.sweep", ignore_result=True)
def sweep() -> dict[str, list[int]]:
    """Start and end sales on time; beat runs it every second (settings)."""
    return sales_sweep()
