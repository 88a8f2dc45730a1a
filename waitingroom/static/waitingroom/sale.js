// The sale page: countdown to the start, stock bar, live status (its websocket),
// and the Buy button (buy.js), which sends a shopper the waiting room turns away
// to the waiting room.
//
// Every state it shows is the server's: the status it was rendered with, then each
// tick's (or poll's). The browser's clock only runs the countdown between ticks, set
// by the server's (data-server-ms, then every tick's now_ms): at zero the page says
// the sale is opening and waits for the server to say it is live. A confirmed order
// goes into its own box (the server's list of the shopper's orders, drawn with the
// page), which no later state replaces.
"use strict";

(function () {
  const root = document.getElementById("sale");
  const saleId = root.dataset.saleId;
  const startsMs = Number(root.dataset.startsMs);
  const button = document.getElementById("buy");
  const message = document.getElementById("message");
  const countdown = document.getElementById("countdown");
  const stock = document.getElementById("stock");
  const stockWords = document.getElementById("stock-words");
  const line = document.getElementById("line");
  const lineOpensMs = Number(root.dataset.lineOpensMs);
  const t = window.FluxWords.t; // the page's language (words.js)
  const STATUS_WORDS = { sold_out: t("sold_out"), ended: t("ended"), paused: t("paused_short") };
  let quantity = Number(root.dataset.quantity);
  let status = root.dataset.status;
  let buying = false;
  let shownStatus = null; // the status whose words #message holds, if any
  // The server's clock minus the browser's (0 until the server has said its time).
  let skewMs = root.dataset.serverMs ? Number(root.dataset.serverMs) - Date.now() : 0;

  function serverNow() {
    return Date.now() + skewMs;
  }

  function closed() {
    return status === "sold_out" || status === "ended";
  }

  function showStock(remaining) {
    stock.max = quantity;
    stock.value = remaining;
    stockWords.textContent = remaining > 0 ? t("left", { remaining: remaining, quantity: quantity }) : t("none_left");
  }

  function showStatus() {
    root.dataset.status = status;
    if (STATUS_WORDS[status] && shownStatus !== status) {
      message.textContent = STATUS_WORDS[status];
      shownStatus = status;
    } else if (!STATUS_WORDS[status] && shownStatus) {
      message.textContent = ""; // the pause is over: its words go with it
      shownStatus = null;
    }
    button.disabled = buying || status !== "live";
  }

  function two(n) {
    return String(n).padStart(2, "0");
  }

  function tickCountdown() {
    if (status === "scheduled") {
      const left = Math.max(0, Math.ceil((startsMs - serverNow()) / 1000));
      if (left > 0) {
        const h = Math.floor(left / 3600);
        const m = Math.floor((left % 3600) / 60);
        countdown.textContent = t("starts_in", { time: h + ":" + two(m) + ":" + two(left % 60) });
      } else {
        countdown.textContent = t("opening"); // the server has not said "live" yet
      }
    } else {
      countdown.textContent = status === "live" ? t("on_sale") : "";
    }
    // The pre-queue, while the sale is scheduled: its link from the time the server
    // gave (the waiting room itself says "not yet" to an early click).
    line.hidden = status !== "scheduled";
    const lineOpen = serverNow() >= lineOpensMs;
    document.getElementById("line-soon").hidden = lineOpen;
    document.getElementById("line-open").hidden = !lineOpen;
    showStatus();
  }

  // A sale that asks a proof of work: the page starts on it at once (shopper.js), and a
  // click waits for it, showing how far it got.
  const proving = document.getElementById("proving");
  const proofProgress = document.getElementById("proof-progress");
  function showProof(done, expected) {
    if (proofProgress) proofProgress.value = Math.min(99, Math.round((100 * done) / expected));
  }
  if (root.dataset.challenge) window.FluxShopper.ready(root, showProof).catch(() => {});

  button.addEventListener("click", async () => {
    buying = true;
    showStatus();
    shownStatus = null;
    if (root.dataset.challenge) {
      if (proving) proving.hidden = false;
      try {
        await window.FluxShopper.ready(root, showProof);
      } catch (answer) {
        message.textContent = (answer && answer.detail) || t("reload");
        buying = false;
        return;
      } finally {
        if (proving) proving.hidden = true;
      }
    }
    message.textContent = t("buying");
    const outcome = await window.FluxBuy.buy(saleId);
    root.dataset.outcome = outcome.status;
    if (outcome.status === "rate_limited" && outcome.waitingRoom) {
      message.textContent = outcome.words;
      location.assign(outcome.waitingRoom);
      return;
    }
    message.textContent = outcome.words; // until the sale's state changes; the receipt stays
    if ((outcome.status === "accepted" || outcome.status === "accepted_pending") && outcome.body.order_id) {
      window.FluxBuy.showReceipt(root, outcome.body);
    }
    if (outcome.status === "sold_out" || outcome.status === "ended") {
      status = outcome.status;
      shownStatus = status; // its words are the ones just shown
    }
    buying = false;
    tickCountdown();
  });

  window.FluxLive.watch({
    socketPath: "/ws/sales/" + saleId + "/",
    onTick(figures) {
      if (figures.now_ms) skewMs = figures.now_ms - Date.now();
      if (figures.quantity) quantity = figures.quantity;
      showStock(figures.remaining);
      if (!closed() || figures.status === "live") status = figures.status; // a restock reopens
      tickCountdown();
    },
  });

  showStock(Number(root.dataset.remaining));
  tickCountdown();
  setInterval(tickCountdown, 1000);
})();
