// The sale page: countdown to the start, stock bar, live status (its websocket),
// and the Buy button (buy.js), which sends a shopper the waiting room turns away
// to the waiting room.
"use strict";

(function () {
  const root = document.getElementById("sale");
  const saleId = root.dataset.saleId;
  const quantity = Number(root.dataset.quantity);
  const startsMs = Number(root.dataset.startsMs);
  const button = document.getElementById("buy");
  const message = document.getElementById("message");
  const countdown = document.getElementById("countdown");
  const stock = document.getElementById("stock");
  const stockWords = document.getElementById("stock-words");
  let status = root.dataset.status;
  let buying = false;

  function closed() {
    return status === "sold_out" || status === "ended";
  }

  function showStock(remaining) {
    stock.value = remaining;
    stockWords.textContent = remaining > 0 ? remaining + " of " + quantity + " left" : "None left";
  }

  function showStatus() {
    root.dataset.status = status;
    if (status === "sold_out") message.textContent = "Sold out: every unit has been sold.";
    if (status === "ended") message.textContent = "This sale has ended.";
    if (status === "paused") message.textContent = "The sale is paused for a moment.";
    button.disabled = buying || closed() || status === "paused" || Date.now() < startsMs;
  }

  function two(n) {
    return String(n).padStart(2, "0");
  }

  function tickCountdown() {
    const left = Math.max(0, Math.ceil((startsMs - Date.now()) / 1000));
    if (left > 0) {
      const h = Math.floor(left / 3600);
      const m = Math.floor((left % 3600) / 60);
      countdown.textContent = "Starts in " + h + ":" + two(m) + ":" + two(left % 60);
    } else {
      countdown.textContent = closed() ? "" : "On sale now";
      if (status === "scheduled") status = "live";
    }
    showStatus();
  }

  button.addEventListener("click", async () => {
    buying = true;
    showStatus();
    message.textContent = "Buying…";
    const outcome = await window.FluxBuy.buy(saleId);
    message.textContent = outcome.words;
    root.dataset.outcome = outcome.status;
    if (outcome.status === "rate_limited" && outcome.waitingRoom) {
      location.assign(outcome.waitingRoom);
      return;
    }
    if (outcome.status === "sold_out" || outcome.status === "ended") status = outcome.status;
    buying = false;
    showStatus();
  });

  window.FluxLive.watch({
    socketPath: "/ws/sales/" + saleId + "/",
    onTick(figures) {
      showStock(figures.remaining);
      if (!closed()) status = figures.status;
      showStatus();
      if (closed()) countdown.textContent = "";
    },
  });

  showStock(Number(root.dataset.remaining));
  tickCountdown();
  setInterval(tickCountdown, 1000);
})();
