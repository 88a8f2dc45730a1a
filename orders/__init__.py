"""Orders: the Kafka consumer that persists accepted orders to PostgreSQL."""
