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
    "limit_reached", "address_limit_reached", "not_found", "idempotency_key_reused", "invalid",
  ]);

  const t = window.FluxWords.t; // the page's language (words.js)
  // The buy API's outcome -> the key of its words (waitingroom/words.py).
  const WORDS = {
    accepted: "accepted", accepted_pending: "accepted_pending", rate_limited: "rate_limited",
    sold_out: "sold_out", not_started: "not_started", paused: "paused", ended: "ended",
    limit_reached: "limit_reached", address_limit_reached: "address_limit_reached",
    admission_invalid: "admission_invalid", proof_required: "reload",
    shopper_required: "reload", shopper_invalid: "reload", unavailable: "unavailable",
    not_found: "not_found", idempotency_key_reused: "went_wrong", invalid: "went_wrong", network: "network",
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
    if (status === "accepted" && body.order_id) return t("accepted_order", { order: body.order_id.slice(0, 8) });
    return t(WORDS[status] || "unexpected");
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
      return { status: "network", words: t("network"), body: {} };
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
    // The total as the server writes it in this page's language (300.00, or 300,00 in German).
    const total = new Intl.NumberFormat(document.documentElement.lang || "en", {
      minimumFractionDigits: 2, maximumFractionDigits: 2, useGrouping: false,
    }).format(Number(root.dataset.unitPrice) * quantity);
    const item = document.createElement("li");
    item.dataset.orderId = body.order_id;
    item.textContent =
      t("receipt_line", {
        order: body.order_id, quantity: quantity, product: root.dataset.product, total: total,
        currency: root.dataset.currency,
      }) +
      (body.accepted_at_ms ? t("receipt_accepted", { time: utcTime(body.accepted_at_ms) }) : "") +
      t(body.status === "accepted_pending" ? "receipt_pending" : "receipt_confirmed");
    const link = document.createElement("a");
    link.href = "/sales/" + body.sale_id + "/orders/" + body.order_id + "/";
    link.textContent = t("receipt");
    item.appendChild(link);
    list.insertBefore(item, list.firstChild);
    box.hidden = false;
    root.dataset.receipt = body.order_id;
  }

  // "4 Dec 2026, 05:30:12" (in UTC, which the words after it say), the receipts' format.
  function utcTime(ms) {
    const d = new Date(ms);
    const months = window.FluxWords.words.months || ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    return d.getUTCDate() + " " + months[d.getUTCMonth()] + " " + d.getUTCFullYear() + ", " + d.toISOString().slice(11, 19);
  }

  return { buy: buy, intentKey: intentKey, showReceipt: showReceipt };
})();
