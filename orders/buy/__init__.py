"""The buy hot path: every shopper's "Buy", from the HTTP request to Kafka's
acknowledgement. It never imports the ORM (an import-linter contract holds it
to that): one Redis round trip decides, one produce hands the order on.

    front.py     the one address: buys parsed and decided on an event loop, the rest to nginx
    lane.py      the WSGI fast lane in front of Django (flux_admin/wsgi.py)
    routes.py    the same edge as django-ninja routes (and in /api/docs)
    edge.py      HTTP in, Answer out: headers, body limits, validation
    identity.py  who the shopper is: the pages' signed cookie, a storefront's token
    steps.py     the I/O the edge and the decision ask for; run_sync blocks, the front awaits
    decision.py  the decision: sold-out flag, buy.lua, the hand-off
    group.py     group commit: a process's concurrent buys of a sale share one call of buy.lua
    buy.lua      idempotency, window, token bucket, stock, limit, reservation
    outcomes.py  every outcome, its words and its HTTP status
    schemas.py   the request and answer bodies
"""
