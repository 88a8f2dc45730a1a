"""Orders: the buy path (buy/: the edge, the front, the decision and buy.lua), the
order message and its publisher, the Kafka consumer that persists accepted orders to
PostgreSQL (consumer.py, manage.py consume_orders), the re-publisher of reservations
Kafka never acknowledged (republish.py), reconciliation (reconcile.py) and receipts."""
