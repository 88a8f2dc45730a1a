"""The words the shopper pages' scripts show (buy.js, sale.js, room.js), translated
like the templates' (waitingroom/language.py): each page carries them as JSON
(`{% shopper_words %}` in waitingroom/base.html), so that one translation file holds
every word a shopper reads. Placeholders are %(name)s, filled in by the scripts.
"""

from __future__ import annotations

from django.utils.dates import MONTHS_3
from django.utils.translation import gettext as _


def script_words() -> dict[str, object]:
    """Every string the scripts show, in the active language."""
    return {
        # buy.js: the buy API's answers
        "accepted": _("You got it! Your order is confirmed."),
        "accepted_order": _("You got it! Your order %(order)s is confirmed."),
        "accepted_pending": _("You got it! Your order is being confirmed."),
        "rate_limited": _("Lots of shoppers right now: taking you to the waiting room…"),
        "sold_out": _("Sold out: every unit has been sold."),
        "not_started": _("The sale has not started yet."),
        "paused": _("The sale is paused for a moment. Try again shortly."),
        "ended": _("This sale has ended."),
        "limit_reached": _("You already bought as many as this sale allows per shopper."),
        "address_limit_reached": _(
            "Shoppers on your network (your home or office connection) have bought as many as "
            "this sale allows per connection."
        ),
        "admission_invalid": _("Your turn has passed or was already used: rejoin the waiting room."),
        "reload": _("Please reload the page and try again."),
        "unavailable": _("We cannot take orders this second. Try again in a moment: you will not buy twice."),
        "not_found": _("This sale does not exist."),
        "went_wrong": _("Something went wrong with this purchase. Please try again."),
        "network": _("No connection. Check your network and try again: you will not buy twice."),
        "unexpected": _("Something unexpected happened. Please try again."),
        # buy.js: a receipt line (as _receipts.html draws it)
        "receipt_line": _("Order %(order)s: %(quantity)s × %(product)s, %(total)s %(currency)s"),
        "receipt_accepted": _(", accepted %(time)s UTC"),
        "receipt_pending": _(", being confirmed. "),
        "receipt_confirmed": _(", confirmed. "),
        "receipt": _("Receipt"),
        "months": [str(MONTHS_3[month]).title() for month in range(1, 13)],
        # sale.js
        "paused_short": _("The sale is paused for a moment."),
        "left": _("%(remaining)s of %(quantity)s left"),
        "none_left": _("None left"),
        "starts_in": _("Starts in %(time)s"),
        "opening": _("Opening…"),
        "on_sale": _("On sale now"),
        "buying": _("Buying…"),
        # room.js
        "drawn": _("The line has been drawn: finding your place…"),
        "your_turn": _("It's your turn!"),
        "turn_come": _("Your turn has come: buy now."),
        "turn_passed": _("Your turn has passed"),
        "too_late": _("You did not buy in time. Join again at the back."),
        "place_lost": _("Your place was lost"),
        "away_too_long": _("This page was away too long and the line moved on. Join again at the back."),
        "turn_paused": _(
            "The sale is paused: your turn is kept. You will have %(seconds)s s to buy when it resumes."
        ),
        "buy_within": _("Buy within %(seconds)s s: your turn is held for you until then."),
        "checking_turn": _("Checking your turn…"),
        "sold_out_title": _("Sold out"),
        "every_unit_sold": _("Every unit has been sold."),
        "ended_title": _("This sale has ended"),
        "no_more_orders": _("It takes no more orders."),
        "not_in_line": _("You are not in line"),
        "join_to_get_place": _("Join the line to get a place."),
        "turn_kept": _("The sale is paused: your turn is kept."),
        "goes_on": _("The sale goes on: buy now."),
        "in_line_for_start": _("You are in line for the start"),
        "prequeue": _(
            "The sale starts at %(starts)s. Then everyone in line is put in a random order, once, and served "
            "in that order: joining early or reloading gives no edge. Keep this page open."
        ),
        "paused_title": _("The sale is paused"),
        "place_kept": _("Your place is kept: the line moves again when the sale resumes."),
        "next_title": _("You're next"),
        "getting_ready": _("Your turn has come: getting it ready…"),
        "keep_open": _("Keep this page open."),
        "in_waiting_room": _("You are in the waiting room"),
        "keep_open_moves": _("Keep this page open: it moves by itself."),
        "bought_title": _("You got it!"),
        "wait_unknown": _("unknown"),
        "wait_seconds": _("about %(n)s s"),
        "wait_minutes": _("about %(n)s min"),
    }
