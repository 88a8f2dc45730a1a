"""manage.py consume_orders: Kafka's orders topic into PostgreSQL (orders.consumer)."""

from __future__ import annotations

import os
import signal
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from orders.consumer import OrderConsumer


class Command(BaseCommand):
    help = "Persist accepted orders from Kafka to PostgreSQL, exactly once. SIGTERM/SIGINT: finish the batch, commit, leave."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--group-id", default=settings.KAFKA_ORDERS_GROUP, help="Kafka consumer group")
        parser.add_argument(
            "--instance-id",
            default=os.environ.get("FLUX_CONSUMER_INSTANCE_ID") or None,
            help="Kafka static group membership: a restart under the same id resumes at once "
            "(FLUX_CONSUMER_INSTANCE_ID; unique within the group, or the broker fences the older one)",
        )
        parser.add_argument("--batch-size", type=int, default=2000, help="messages per database transaction")
        parser.add_argument("--max-wait", type=float, default=0.5, help="seconds to wait to fill a batch")

    def handle(
        self,
        *args: Any,
        group_id: str,
        instance_id: str | None,
        batch_size: int,
        max_wait: float,
        **options: Any,
    ) -> None:
        if not 1 <= batch_size <= 50_000:
            raise CommandError("--batch-size must be between 1 and 50000")
        if not 0 < max_wait <= 60:
            raise CommandError("--max-wait must be between 0 and 60 seconds")
        consumer = OrderConsumer(
            group_id=group_id,
            instance_id=instance_id,
            batch_size=batch_size,
            max_wait=max_wait,
            report=lambda line: self.stdout.write(line),
        )

        def stop(signum: int, frame: Any) -> None:
            self.stdout.write(f"received {signal.Signals(signum).name}: finishing the batch")
            consumer.stopping = True

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        self.stdout.write(
            f"consuming {settings.KAFKA_ORDERS_TOPIC} as group {group_id}"
            + (f", instance {instance_id}" if instance_id else "")
            + f" (batches of {batch_size})"
        )
        consumer.run()
        self.stdout.write("stopped cleanly: offsets committed")
