"""Celery tasks of the order pipeline: thin wrappers over its services."""

from __future__ import annotations

from celery import shared_task

from orders.reconcile import final_reports_store
from orders.republish import ledger_republish_safely


@shared_task(name="orders.republish", ignore_result=True)
def republish() -> dict[str, int]:
    """Reservations older than a few seconds without an order row go to Kafka
    again; ended sales whose books settled get their final report."""
    done = ledger_republish_safely()
    final_reports_store()
    return done
