// The purchase, as both shopper pages make it (the sale page's Buy button, the
// waiting room's admitted shopper): one idempotency key per purchase intent, kept
// in sessionStorage so that a retry (a click after a network error, a reload, the
// waiting room's admitted buy) sends the same key and can never buy twice; and
// every answer of the buy API turned into words a shopper understands.
"use strict";

window.FluxBuy = (function () {
  // Answers that end the intent: the next click is a new purchase, with a new key.
  // rate_limited, admission_invalid, unavailable and network errors are not
  // recorded by the buy API, so the same intent is tried again with the same key.
  const FINAL = new Set([
    "accepted", "accepted_pending", "sold_out", "not_started", "paused", "ended",
    "limit_reached", "not_found", "idempotency_key_reused", "invalid",
  ]);

  const WORDS = {
    accepted: "You got it! Your order is confirmed.",
    accepted_pending: "You got it! Your order is being confirmed.",
    rate_limited: "Lots of shoppers right now: taking you to the waiting room…",
    sold_out: "Sold out: every unit has been sold.",
    not_started: "The sale has not started yet.",
    paused: "The sale is paused for a moment. Try again shortly.",
    ended: "This sale has ended.",
    limit_reached: "You already bought as many as this sale allows per shopper.",
    admission_invalid: "Your turn has passed or was already used: rejoin the waiting room.",
    shopper_required: "Please reload the page and try again.",
    shopper_invalid: "Please reload the page and try again.",
    unavailable: "We cannot take orders this second. Try again in a moment: you will not buy twice.",
    not_found: "This sale does not exist.",
    idempotency_key_reused: "Something went wrong with this purchase. Please try again.",
    invalid: "Something went wrong with this purchase. Please try again.",
    network: "No connection. Check your network and try again: you will not buy twice.",
  };

  function newKey() {
    const bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  function storageName(saleId) {
    return "flux-buy-intent-" + saleId;
  }

  // The key of the current purchase intent (made on first use).
  function intentKey(saleId) {
    let key = sessionStorage.getItem(storageName(saleId));
    if (!key) {
      key = newKey();
      sessionStorage.setItem(storageName(saleId), key);
    }
    return key;
  }

  function words(status, body) {
    if (status === "accepted" && body.order_id) {
      return "You got it! Your order " + body.order_id.slice(0, 8) + " is confirmed.";
    }
    return WORDS[status] || "Something unexpected happened. Please try again.";
  }

  // Buy `quantity` units; resolves to {status, words, body, waitingRoom}.
  async function buy(saleId, options) {
    const opts = options || {};
    const headers = {
      "Content-Type": "application/json",
      Accept: "application/json", // the buy API answers 429 + the waiting room, not a 302
      "Idempotency-Key": intentKey(saleId),
    };
    if (opts.admissionToken) headers["Admission-Token"] = opts.admissionToken;
    let response;
    try {
      response = await fetch("/api/v1/sales/" + saleId + "/buy", {
        method: "POST",
        headers: headers,
        body: JSON.stringify({ quantity: opts.quantity || 1 }),
        credentials: "same-origin",
      });
    } catch (error) {
      return { status: "network", words: WORDS.network, body: {} };
    }
    let body = {};
    try {
      body = await response.json();
    } catch (error) {
      body = {};
    }
    const status = body.status || (response.status >= 500 ? "unavailable" : "invalid");
    if (FINAL.has(status)) sessionStorage.removeItem(storageName(saleId));
    return { status: status, words: words(status, body), body: body, waitingRoom: body.waiting_room };
  }

  // The order an accepted answer names, added to the page's receipt box (the
  // _receipts.html include, which the server fills on every load): every figure in
  // it is the server's, the answer's or the page's (product, price, currency).
  function showReceipt(root, body) {
    const box = document.getElementById("receipt");
    const list = document.getElementById("receipt-words");
    if (!body.order_id || list.querySelector('[data-order-id="' + body.order_id + '"]')) return;
    const quantity = body.quantity || 1;
    const total = (Number(root.dataset.unitPrice) * quantity).toFixed(2);
    const item = document.createElement("li");
    item.dataset.orderId = body.order_id;
    item.textContent =
      "Order " + body.order_id + ": " + quantity + " × " + root.dataset.product + ", " + total + " " +
      root.dataset.currency + (body.accepted_at_ms ? ", accepted " + utcTime(body.accepted_at_ms) : "") +
      (body.status === "accepted_pending" ? ", being confirmed. " : ", confirmed. ");
    const link = document.createElement("a");
    link.href = "/sales/" + body.sale_id + "/orders/" + body.order_id + "/";
    link.textContent = "Receipt";
    item.appendChild(link);
    list.insertBefore(item, list.firstChild);
    box.hidden = false;
    root.dataset.receipt = body.order_id;
  }

  // "4 Dec 2026, 05:30:12 UTC", the receipts' format (the server's time, in UTC).
  function utcTime(ms) {
    const d = new Date(ms);
    const months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    return d.getUTCDate() + " " + months[d.getUTCMonth()] + " " + d.getUTCFullYear() + ", " +
      d.toISOString().slice(11, 19) + " UTC";
  }

  return { buy: buy, intentKey: intentKey, showReceipt: showReceipt };
})();
