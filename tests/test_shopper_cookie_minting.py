"""A shopper cookie is given only by the page of a sale that may still sell: one GET
of any /sales/<id>/ page used to mint one, even for a sale that does not exist, so a
bot could mint identities without a sale to point at (issue 22)."""

from __future__ import annotations

import pytest
from django.test import Client

from orders.buy import identity
from sales import services
from tests.factories import make_sale

pytestmark = pytest.mark.django_db


def minted(path: str) -> tuple[int, bool]:
    response = Client().get(path)
    return response.status_code, identity.SHOPPER_COOKIE in response.cookies


@pytest.mark.parametrize("page", ["sales", "waiting-room"])
def test_no_such_sale_mints_no_shopper(page: str) -> None:
    assert minted(f"/{page}/987654321/") == (404, False)


@pytest.mark.parametrize("page", ["sales", "waiting-room"])
def test_a_draft_or_an_ended_sale_mints_no_shopper(owner, page: str) -> None:
    draft = make_sale(owner)
    assert minted(f"/{page}/{draft.pk}/")[1] is False
    ended = make_sale(owner, live=True)
    services.sale_end(sale_id=ended.pk)
    assert minted(f"/{page}/{ended.pk}/")[1] is False


@pytest.mark.parametrize("page", ["sales", "waiting-room"])
def test_a_sale_that_may_still_sell_gives_a_new_visitor_a_shopper(owner, page: str) -> None:
    live = make_sale(owner, live=True)
    assert minted(f"/{page}/{live.pk}/") == (200, True)
    paused = make_sale(owner, live=True)
    services.sale_pause(sale_id=paused.pk)
    assert minted(f"/{page}/{paused.pk}/")[1] is True  # it may resume
