"""The fault tests on the HA topology (`make test-ha`, bin/test-ha): three Kafka
brokers, a Redis primary with two replicas under Sentinel, the product with two
consumers. One product serves every test; each test kills a server or a process
mid-sale and the topology is made whole again after it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.ha import ha_stack, kafka_in_sync
from tests.support.product import Product
from tests.support.servers import database_url_for_tests, wait_for

if not os.environ.get("REDIS_SENTINELS"):
    pytest.exit("tests/ha run on the HA topology: use make test-ha (bin/test-ha)", returncode=2)


@pytest.fixture(scope="session")
def ha_product(
    tmp_path_factory: pytest.TempPathFactory, django_db_setup: None, django_db_blocker: Any
) -> Iterator[Product]:
    """The whole product (bin/run) on the HA topology, in demo mode (the shoppers
    name themselves: these tests are about servers dying, not identity), with
    FLUX_CONSUMERS consumers in its group."""
    with django_db_blocker.unblock():
        database_url = database_url_for_tests()
    product = Product(
        state_dir=Path(tmp_path_factory.mktemp("ha-product")),
        database_url=database_url,
        FLUX_DEMO_MODE="true",
        FLUX_CONSUMERS=os.environ.get("FLUX_CONSUMERS", "2"),
    )
    product.start()
    yield product
    product.stop()


@pytest.fixture(autouse=True)
def topology_whole_again() -> Iterator[None]:
    """After each test, whatever it killed is started again (bin/stack up --ha: a
    Redis node comes back as a replica of the current primary) and the orders
    topic's partitions are back to three in-sync replicas."""
    yield
    ha_stack("up")
    wait_for(kafka_in_sync, 120, "every orders partition back to 3 in-sync replicas")
