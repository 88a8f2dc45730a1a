"""An identity costs something (issue 22): the page of a sale that asks a proof of
work gives no shopper cookie, but a challenge its script solves; the answer, posted
with the page's CSRF token, gets the cookie, carrying the bits it cost. One challenge
is one cookie. A cookie with fewer bits than the sale asks neither buys (403
proof_required) nor takes a place in line. Over real HTTP (granian), outside demo mode."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any
from urllib.parse import urlencode

import pytest

from orders.buy import identity
from tests.factories import make_sale
from tests.support.http import BrowserSession, HttpReply, WebServer, granian_server
from tests.support.shoppers import page_proof, prove

pytestmark = pytest.mark.django_db(transaction=True)

BITS = 12  # 4,096 hashes on average: quick for the tests, the same path as 16


def buy(browser: BrowserSession, sale_id: int) -> HttpReply:
    return browser.request(
        "POST",
        f"/api/v1/sales/{sale_id}/buy",
        json.dumps({"quantity": 1}),
        {"Content-Type": "application/json", "Idempotency-Key": uuid.uuid4().hex},
    )


def proof_bits(browser: BrowserSession) -> int:
    return identity.shopper_cookie_read(browser.cookies[identity.SHOPPER_COOKIE])[1]


def test_the_page_gives_a_challenge_not_a_cookie_and_the_answer_gets_one(
    owner, web_server: WebServer
) -> None:
    sale = make_sale(owner, live=True, proof_bits=BITS)
    browser = BrowserSession(web_server)
    page = browser.get(f"/sales/{sale.pk}/")
    assert page.status == 200
    assert identity.SHOPPER_COOKIE not in browser.cookies
    assert buy(browser, sale.pk).json()["status"] == "shopper_required"

    reply = prove(browser, sale.pk, page.text)
    assert reply.status == 200, reply.text
    assert reply.json() == {"status": "proven", "bits": BITS}
    assert proof_bits(browser) == BITS
    assert buy(browser, sale.pk).json()["status"] == "accepted"
    # The page no longer asks: the cookie carries enough.
    assert page_proof(browser.get(f"/sales/{sale.pk}/").text) is None


def test_one_challenge_is_one_cookie(owner, web_server: WebServer) -> None:
    sale = make_sale(owner, live=True, proof_bits=BITS)
    first = BrowserSession(web_server)
    page = first.get(f"/sales/{sale.pk}/").text
    assert prove(first, sale.pk, page).status == 200
    bot = BrowserSession(web_server)
    bot.get(f"/sales/{sale.pk}/")  # its own CSRF cookie
    bot.cookies["csrftoken"] = first.cookies["csrftoken"]
    again = prove(bot, sale.pk, page)
    assert again.status == 400
    assert again.json()["status"] == "proof_invalid"
    assert "answered already" in again.json()["detail"]
    assert identity.SHOPPER_COOKIE not in bot.cookies


def test_answers_that_do_not_hold_are_refused_with_what_is_wrong(owner, web_server: WebServer) -> None:
    sale = make_sale(owner, live=True, proof_bits=BITS)
    other = make_sale(owner, live=True, proof_bits=BITS)
    browser = BrowserSession(web_server)
    page = browser.get(f"/sales/{sale.pk}/").text
    challenge, csrf, _ = page_proof(page)  # type: ignore[misc]
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-CSRFToken": csrf,
        "Origin": web_server.origin,
    }

    def answer(sale_id: int, **form: str) -> dict[str, Any]:
        reply = browser.request("POST", f"/sales/{sale_id}/shopper.json", urlencode(form), headers)
        assert reply.status == 400, reply.text
        return reply.json()

    unsolved = next(str(n) for n in range(10_000) if not _works(challenge, str(n)))
    assert "does not solve" in answer(sale.pk, challenge=challenge, nonce=unsolved)["detail"]
    assert "sale" in answer(other.pk, challenge=challenge, nonce="0")["detail"]
    assert answer(sale.pk, challenge=challenge[:-3] + "AAA", nonce="0")["status"] == "proof_invalid"
    assert answer(sale.pk, challenge=challenge, nonce="-1")["status"] == "proof_invalid"
    assert answer(sale.pk, challenge="", nonce="")["status"] == "proof_invalid"
    assert identity.SHOPPER_COOKIE not in browser.cookies
    # Without the page's CSRF token: Django's 403, nothing minted.
    no_csrf = {"Content-Type": "application/x-www-form-urlencoded", "Origin": web_server.origin}
    reply = BrowserSession(web_server).request(
        "POST", f"/sales/{sale.pk}/shopper.json", urlencode({"challenge": challenge, "nonce": "0"}), no_csrf
    )
    assert reply.status == 403


def _works(challenge: str, nonce: str) -> bool:
    from waitingroom.proof import work_done

    return work_done(challenge, nonce) >= BITS


def test_a_cookie_with_less_work_than_the_sale_asks_neither_buys_nor_waits(
    owner, web_server: WebServer
) -> None:
    free = make_sale(owner, live=True, proof_bits=0)
    guarded = make_sale(owner, live=True, proof_bits=BITS, rate=1, burst=1)
    browser = BrowserSession(web_server)
    browser.get(f"/sales/{free.pk}/")  # a sale that asks nothing: a cookie with 0 bits
    assert proof_bits(browser) == 0
    refused = buy(browser, guarded.pk)
    assert refused.status == 403
    assert refused.json()["status"] == "proof_required"
    room = browser.get(f"/waiting-room/{guarded.pk}/")
    assert room.status == 200 and 'id="proving"' in room.text  # no place: the page proves first

    assert prove(browser, guarded.pk, room.text).status == 200
    assert proof_bits(browser) == BITS
    room = browser.get(f"/waiting-room/{guarded.pk}/")
    assert 'data-place="waiting"' in room.text
    # The same shopper, now with the bits: its cookie kept its id.
    assert buy(browser, free.pk).json()["status"] == "accepted"


def test_no_sale_or_an_ended_one_gives_no_identity(owner, web_server: WebServer) -> None:
    from sales import services

    sale = make_sale(owner, live=True, proof_bits=BITS)
    browser = BrowserSession(web_server)
    page = browser.get(f"/sales/{sale.pk}/").text
    services.sale_end(sale_id=sale.pk)  # the page was open when the sale ended
    assert browser.get(f"/sales/{sale.pk}/").status == 410
    reply = prove(browser, sale.pk, page)
    assert reply.status == 404
    assert "no longer sells" in reply.json()["detail"]
    assert identity.SHOPPER_COOKIE not in browser.cookies
    assert prove(browser, 987654321, page.replace(str(sale.pk), "987654321")).status == 404


@pytest.fixture
def checked_server(django_db_blocker: Any) -> Iterator[WebServer]:
    with ExitStack() as running:
        with django_db_blocker.unblock():  # while it starts, as the test run's own server
            server = running.enter_context(
                granian_server(
                    "granian-shopper-check", SHOPPER_CHECK="tests.support.shopper_check.captcha_solved"
                )
            )
        yield server


def test_a_shopper_check_can_stand_before_the_cookie(owner, checked_server: WebServer) -> None:
    """SHOPPER_CHECK: a CAPTCHA provider's verification, its fields posted with the proof."""
    sale = make_sale(owner, live=True, proof_bits=BITS)
    browser = BrowserSession(checked_server)
    page = browser.get(f"/sales/{sale.pk}/").text
    assert '<form id="shopper-check">' in page
    refused = prove(browser, sale.pk, page)
    assert refused.status == 403
    assert refused.json() == {"status": "check_failed", "detail": f"Solve the puzzle to shop sale {sale.pk}."}
    assert identity.SHOPPER_COOKIE not in browser.cookies
    page = browser.get(f"/sales/{sale.pk}/").text
    assert prove(browser, sale.pk, page, captcha="solved").status == 200
    assert proof_bits(browser) == BITS
