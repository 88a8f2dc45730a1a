"""Flash sales: their definition (models, services, the merchant API and admin), their
live state in Redis (live.py, the scripts in lua/, the key layout in keys.py) and the
storefront keys. The buy decision itself is in orders/buy/ (decision.py, buy.lua)."""
