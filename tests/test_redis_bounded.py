"""Redis cannot grow without bound: it runs with a memory limit whose policy never
evicts a live sale's state (noeviction: at the limit writes are refused, and the
buy API answers 503, rather than a reservation or an idempotency record being
dropped), and everything an ended sale leaves in Redis expires."""

from __future__ import annotations

import re

import pytest
from django.conf import settings

from orders.buy import decision
from sales import keys, services
from sales.selectors import sale_figures
from tests.factories import make_sale
from tests.support.servers import ROOT
from waitingroom.queue import queue_admit, queue_join, queue_present

pytestmark = pytest.mark.django_db


def test_the_stacks_redis_has_a_memory_limit_that_never_evicts(redis_conn) -> None:
    assert int(redis_conn.config_get("maxmemory")["maxmemory"]) > 0
    assert redis_conn.config_get("maxmemory-policy")["maxmemory-policy"] == "noeviction"


def test_compose_runs_redis_the_same_way() -> None:
    compose = (ROOT / "compose.yaml").read_text()
    assert re.search(r'"--maxmemory", "\$\{FLUX_REDIS_MAXMEMORY:-\w+\}"', compose)
    assert '"--maxmemory-policy", "noeviction"' in compose


def sale_keys_without_expiry(redis_conn, sale_id: int) -> list[str]:
    keys = [key.decode() for key in redis_conn.scan_iter(f"fg:{{{sale_id}}}:*", count=1000)]
    assert keys, "the sale left nothing to check"
    return [key for key in keys if redis_conn.ttl(key) == -1]


def test_everything_an_ended_sale_leaves_expires(owner, redis_conn) -> None:
    decision.forget_sold_out_flags()
    sale = make_sale(owner, live=True, quantity=50, per_user_limit=1, rate=1, burst=3)
    for n in range(6):  # three buy, the rest meet the empty bucket
        decision.buy(sale_id=sale.pk, user_id=f"buyer-{n}", quantity=1, idempotency_key=f"k-{n}")
    for n in range(3):
        queue_join(sale_id=sale.pk, shopper=f"waiting-{n}")
        queue_present(sale_id=sale.pk, shopper=f"waiting-{n}")
    queue_admit(sale_id=sale.pk)
    assert sale_keys_without_expiry(redis_conn, sale.pk)  # while it runs, its state is kept

    services.sale_end(sale_id=sale.pk)
    for n in range(20):  # the herd after the end
        decision.buy(sale_id=sale.pk, user_id=f"late-{n}", quantity=1, idempotency_key=f"late-{n}")
    queue_admit(sale_id=sale.pk)

    assert sale_keys_without_expiry(redis_conn, sale.pk) == []
    longest = max(redis_conn.ttl(key) for key in redis_conn.scan_iter(f"fg:{{{sale.pk}}}:*"))
    assert longest <= settings.ENDED_SALE_REDIS_SECONDS + 86400  # idempotency records: the sale's end + a day
    # The SKU is released: "no sale", for as long as a process may still route to this one.
    sku_key = f"fg:sku:{sale.merchant_id}:{sale.sku}"
    assert redis_conn.get(sku_key) == b"0"
    assert 0 < redis_conn.pttl(sku_key) <= keys.SKU_CACHE_MS + 100


def test_an_ended_sale_whose_state_expired_shows_its_books(owner, redis_conn) -> None:
    decision.forget_sold_out_flags()
    sale = make_sale(owner, live=True, quantity=10)
    services.sale_end(sale_id=sale.pk)
    services.Sale.objects.filter(pk=sale.pk).update(persisted_units=4)  # four units have order rows
    for key in redis_conn.scan_iter(f"fg:{{{sale.pk}}}:*"):
        redis_conn.delete(key)  # what the expiry does, a day or two later

    figures = sale_figures(sale=services.Sale.objects.get(pk=sale.pk))

    assert (figures.quantity, figures.sold, figures.remaining, figures.live_status) == (10, 4, 6, None)
