"""Flash sales: their definition, live state in Redis and the buy decision."""
