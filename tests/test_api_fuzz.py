"""Property-based requests over the whole OpenAPI schema (schemathesis), against
the real server (the test run's granian) and the real Redis, PostgreSQL and
Kafka: with a merchant's token and without one, inputs that fit the schema and
inputs that do not. Every answer must be documented (status, content type,
headers, body) and none may be a 5xx.

To reach more than "not found", a generated sale id is often swapped for one of
a few real sales of the merchant (live, scheduled, draft), and a buy's generated
X-Shopper-Token often for a valid one. Bounded in time: FUZZ_EXAMPLES examples
per operation (default 150), no example database kept between runs.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import schemathesis
from django.utils import timezone
from hypothesis import HealthCheck, Phase, settings
from schemathesis import checks

from sales import services
from sales.models import MerchantToken
from tests.factories import make_merchant, make_sale
from tests.support.http import WebServer
from tests.support.shoppers import Storefront, storefront

# The server reads rows this test writes: they must be committed.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "150"))
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_headers_conformance,
    checks.response_schema_conformance,
    # Input the schema forbids is refused (4xx), never taken: strict types, bounds.
    checks.negative_data_rejection,
]


class Shop:
    """What the fuzzed requests may be pointed at: a merchant, its token, its sales."""

    def __init__(self, token: str, sale_ids: list[int], front: Storefront) -> None:
        self.token = token
        self.sale_ids = sale_ids
        self.front = front


@pytest.fixture
def shop(web_server: WebServer) -> Iterator[Shop]:
    merchant = make_merchant("fuzzed")
    _, token = MerchantToken.issue(merchant=merchant, name="fuzz")
    now = timezone.now()
    live = make_sale(merchant, live=True, quantity=50, per_user_limit=3)
    scheduled = make_sale(merchant, starts_at=now + timedelta(hours=1), ends_at=now + timedelta(hours=2))
    services.sale_schedule(sale_id=scheduled.pk)
    draft = make_sale(merchant)
    yield Shop(token, [live.pk, scheduled.pk, draft.pk], storefront(merchant))


def the_schema() -> Any:
    """The schema /api/openapi.json serves, as the code defines it (loaded when the
    tests are collected: schemathesis makes one test per operation from it)."""
    import json

    from flux_admin.api import api

    schema = schemathesis.openapi.from_dict(json.loads(json.dumps(api.get_openapi_schema())))
    schema.config.generation.update(max_examples=EXAMPLES, database="none")
    # Refusing a request the schema forbids: any documented 4xx, 413 (body over the
    # buy API's limit, before it is parsed) included.
    rejection = schema.config.checks.negative_data_rejection
    rejection.expected_statuses = [*rejection.expected_statuses, "413"]
    return schema


fuzzed = the_schema()
bounded = settings(
    max_examples=EXAMPLES,
    deadline=None,
    phases=[Phase.explicit, Phase.generate, Phase.shrink],
    suppress_health_check=list(HealthCheck),
    database=None,
)


def point_at_the_shop(case: Any, shop: Shop) -> None:
    """Often a real sale and a real shopper, so that the routes do more than refuse."""
    sale_id = (case.path_parameters or {}).get("sale_id")
    if isinstance(sale_id, int) and sale_id % 4:
        case.path_parameters["sale_id"] = shop.sale_ids[sale_id % len(shop.sale_ids)]
    headers = case.headers if case.headers is not None else {}
    if "X-Shopper-Token" in headers and len(str(headers["X-Shopper-Token"])) % 2:
        headers["X-Shopper-Token"] = shop.front.token(f"fuzz-{len(str(headers['X-Shopper-Token']))}")
    case.headers = headers


@fuzzed.parametrize()
@bounded
def test_with_a_merchant_token(case: Any, shop: Shop, web_server: WebServer) -> None:
    point_at_the_shop(case, shop)
    case.call_and_validate(
        base_url=web_server.origin,
        headers={"Authorization": f"Bearer {shop.token}"},
        checks=CHECKS,
        allow_redirects=False,
        timeout=30,
    )


@fuzzed.parametrize()
@bounded
def test_without_credentials(case: Any, shop: Shop, web_server: WebServer) -> None:
    point_at_the_shop(case, shop)
    case.call_and_validate(base_url=web_server.origin, checks=CHECKS, allow_redirects=False, timeout=30)
