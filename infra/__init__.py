"""Below every app: clients of the outside servers (Redis, Kafka) and the one
application error type with its HTTP statuses. Imports no app and no model."""
