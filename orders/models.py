"""Orders: one row per reservation accepted by the buy API, written by the consumer."""

from __future__ import annotations

import uuid

from django.db import models


class OrderStatus(models.TextChoices):
    CONFIRMED = "confirmed", "Confirmed"


class Order(models.Model):
    # The id the buy API generated before the hand-off: the order's identity from
    # Redis through Kafka to this table, so a redelivered message is a no-op.
    order_id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # No index of its own: (sale, user_id) below serves every lookup by sale, and one index
    # less is one less B-tree insert per persisted order.
    sale = models.ForeignKey("sales.Sale", on_delete=models.PROTECT, related_name="orders", db_index=False)
    user_id = models.CharField(max_length=128)
    quantity = models.PositiveIntegerField()
    unit_price = models.DecimalField(max_digits=10, decimal_places=2)
    accepted_at = models.DateTimeField(help_text="When the buy API accepted the order.")
    persisted_at = models.DateTimeField(auto_now_add=True)
    kafka_partition = models.IntegerField(null=True, blank=True)
    kafka_offset = models.BigIntegerField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=OrderStatus.choices, default=OrderStatus.CONFIRMED)

    class Meta:
        ordering = ["-accepted_at"]
        indexes = [models.Index(fields=["sale", "user_id"])]

    def __str__(self) -> str:
        return f"order {self.order_id} ({self.quantity} × sale {self.sale_id})"


class OrderAnomaly(models.Model):
    """An accepted order the consumer refused to persist because it would take its
    sale past the quantity. In a correct system there are none."""

    order_id = models.UUIDField(primary_key=True)
    sale = models.ForeignKey("sales.Sale", on_delete=models.PROTECT, related_name="anomalies")
    reason = models.CharField(max_length=200)
    message = models.JSONField()
    detected_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "order anomaly"
        verbose_name_plural = "order anomalies"  # Django's default, "order anomalys", misspells it

    def __str__(self) -> str:
        return f"anomaly {self.order_id}: {self.reason}"
