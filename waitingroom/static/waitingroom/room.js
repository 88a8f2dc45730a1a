// The waiting room: the shopper's place, the people ahead, the estimated wait and
// a progress bar, moved by every admitter tick (socket.js: the websocket, or the
// polling endpoint when it fails). When the shopper's ticket comes up (ticket <=
// serving) the page fetches its admission token and offers a one-click Buy within
// the time the server says the turn has left (buy.js sends the token as the
// Admission-Token header). A pause stops the turn's clock on the server; the page
// asks again when the pause starts and ends, and shows what the server says.
// Before the start the shopper is in the pre-queue: its place is drawn at the start
// (every place given before it, shuffled once), so the page shows the line's size,
// and after the draw (a tick's drawn_ms) it asks the server for its new place.
"use strict";

(function () {
  const root = document.getElementById("room");
  const saleId = root.dataset.saleId;
  const csrfToken = root.dataset.csrf;
  const el = (id) => document.getElementById(id);
  const t = window.FluxWords.t; // the page's language (words.js)
  const heading = el("heading");
  const message = el("message");
  const figuresBox = el("figures");
  const buyButton = el("buy");
  const rejoin = el("rejoin");
  const turn = el("turn");

  let ticket = Number(root.dataset.ticket) || null;
  let knownAhead = root.dataset.ahead === "" ? null : Number(root.dataset.ahead);
  let drawnMs = Number(root.dataset.drawnMs) || 0; // the draw this page's ticket comes from
  let placeStale = false; // the pre-queue was drawn since: the ticket is asked anew
  let state = "waiting";
  let admission = null; // {token, leftMs (the server's), at (local ms it was told), paused}
  let askedAt = 0;
  let live = null;

  function setState(next, title, words) {
    state = next;
    root.dataset.state = next;
    // Written only when they change: the live region announces a new state, not every tick.
    if (heading.textContent !== title) heading.textContent = title;
    if (message.textContent !== (words || "")) message.textContent = words || "";
    const done = ["bought", "sold_out", "ended", "lost"].includes(next);
    figuresBox.hidden = done || next === "admitted";
    buyButton.hidden = next !== "admitted";
    turn.hidden = next !== "admitted";
    rejoin.hidden = next !== "lost";
    el("hint").hidden = !["waiting", "next", "paused"].includes(next);
    if (done && live && next !== "lost") live.stop();
  }

  function showLine(prequeue, waiting) {
    el("in-place").hidden = el("in-ahead").hidden = el("in-wait").hidden = prequeue;
    el("in-line").hidden = !prequeue;
    el("progress").parentElement.hidden = prequeue; // no progress before the draw gives places
    if (prequeue) el("line-size").textContent = String(waiting);
  }

  function showFigures(ahead, rate) {
    el("place").textContent = String(ahead + 1);
    el("ahead").textContent = String(ahead);
    const seconds = rate > 0 ? Math.ceil(ahead / rate) : null;
    el("wait").textContent =
      seconds === null
        ? t("wait_unknown")
        : seconds < 60
          ? t("wait_seconds", { n: Math.max(1, seconds) })
          : t("wait_minutes", { n: Math.ceil(seconds / 60) });
    // Of the places before this one (ticket - 1), those already served or gone: the
    // same after a reload, since the ticket and the people ahead are the server's.
    const before = Math.max(0, (ticket || 1) - 1);
    el("progress").value = before === 0 ? 100 : Math.round((100 * Math.max(0, before - ahead)) / before);
  }

  // The pre-queue was drawn: this page's ticket is the one it held before. Ask the
  // server for the new one, within a second and a half (not every page at once).
  function askPlaceAfterDraw() {
    placeStale = true;
    message.textContent = t("drawn");
    setTimeout(async () => {
      try {
        const response = await fetch("/waiting-room/" + saleId + "/status.json", {
          headers: { Accept: "application/json" },
          credentials: "same-origin",
        });
        const answer = await response.json();
        if (answer.place && answer.place.status === "waiting") {
          ticket = answer.place.ticket;
          knownAhead = answer.place.ahead;
        }
        placeStale = false;
        onTick(answer);
      } catch (error) {
        setTimeout(askPlaceAfterDraw, 1000);
      }
    }, Math.floor(Math.random() * 1500));
  }

  // The turn as the server has it: its token, its time left, paused or not. Asked
  // when the turn comes, when the sale's pause starts or ends, and when the time the
  // server gave runs out (the server, not this page, says the turn has passed).
  async function askAdmission(again) {
    if ((admission && !again) || Date.now() - askedAt < 1000) return; // at most once a second
    askedAt = Date.now();
    let answer;
    try {
      const response = await fetch("/waiting-room/" + saleId + "/admission.json", {
        method: "POST",
        headers: { "X-CSRFToken": csrfToken, Accept: "application/json" },
        credentials: "same-origin",
      });
      answer = await response.json();
    } catch (error) {
      return; // the next tick asks again
    }
    if (answer.admitted) {
      admission = { token: answer.admission_token, leftMs: answer.left_ms, at: Date.now(), paused: answer.paused };
      if (state !== "admitted") {
        setState("admitted", t("your_turn"), t("turn_come"));
        buyButton.focus();
      }
      root.dataset.turn = answer.paused ? "paused" : "running";
      tickAdmission();
    } else if (state === "admitted") {
      admission = null;
      setState("lost", t("turn_passed"), t("too_late"));
    } else if (answer.place && answer.place.status === "waiting") {
      ticket = answer.place.ticket; // passed over while away: still in line
      knownAhead = answer.place.ahead;
    } else if (answer.place && answer.place.status === "none") {
      setState("lost", t("place_lost"), t("away_too_long"));
    }
  }

  // The turn's clock (#turn, not a live region: a screen reader hears the state
  // changes in #message, not every second).
  function tickAdmission() {
    if (state !== "admitted" || !admission) return;
    const leftMs = admission.paused ? admission.leftMs : admission.leftMs - (Date.now() - admission.at);
    const left = Math.max(0, Math.ceil(leftMs / 1000));
    if (admission.paused) {
      turn.textContent = t("turn_paused", { seconds: left });
    } else if (left > 0) {
      turn.textContent = t("buy_within", { seconds: left });
    } else {
      turn.textContent = t("checking_turn");
      askAdmission(true);
    }
  }

  function onTick(figures) {
    if (["bought", "lost"].includes(state)) return;
    if (figures.drawn_ms && figures.drawn_ms !== drawnMs) {
      drawnMs = figures.drawn_ms;
      if (state !== "admitted") return askPlaceAfterDraw();
    }
    if (placeStale) return;
    if (figures.status === "sold_out") return setState("sold_out", t("sold_out_title"), t("every_unit_sold"));
    if (figures.status === "ended") return setState("ended", t("ended_title"), t("no_more_orders"));
    if (figures.place) {
      if (figures.place.status === "waiting") {
        ticket = figures.place.ticket;
        knownAhead = figures.place.ahead;
      } else if (figures.place.status === "admitted") {
        askAdmission();
      } else if (ticket === null || figures.place.ticket === null) {
        if (state !== "next") return setState("lost", t("not_in_line"), t("join_to_get_place"));
      }
    }
    if (state === "admitted") {
      const paused = figures.status === "paused";
      if (admission && paused !== admission.paused) {
        message.textContent = paused ? t("turn_kept") : t("goes_on");
        askAdmission(true); // the server's time left, stopped or running again
      }
      return;
    }
    if (ticket === null) return;
    const prequeue = figures.status === "scheduled";
    showLine(prequeue, figures.waiting);
    if (prequeue) {
      return setState("waiting", t("in_line_for_start"), t("prequeue", { starts: root.dataset.starts }));
    }
    const byServing = Math.max(0, ticket - figures.serving - 1);
    const ahead = knownAhead === null ? byServing : Math.min(knownAhead, byServing);
    knownAhead = ahead; // nobody overtakes: the people ahead only ever get fewer
    showFigures(ahead, figures.admission_rate);
    if (figures.status === "paused") {
      setState("paused", t("paused_title"), t("place_kept"));
    } else if (ticket <= figures.serving) {
      setState("next", t("next_title"), t("getting_ready"));
      askAdmission();
    } else if (ahead === 0) {
      setState("next", t("next_title"), t("keep_open"));
    } else {
      setState("waiting", t("in_waiting_room"), t("keep_open_moves"));
    }
  }

  buyButton.addEventListener("click", async () => {
    buyButton.disabled = true;
    message.textContent = t("buying");
    const outcome = await window.FluxBuy.buy(saleId, { admissionToken: admission && admission.token });
    buyButton.disabled = false;
    if (outcome.status === "accepted" || outcome.status === "accepted_pending") {
      window.FluxBuy.showReceipt(root, outcome.body);
      setState("bought", t("bought_title"), outcome.words.replace(t("bought_title") + " ", ""));
    } else if (outcome.status === "sold_out") {
      setState("sold_out", t("sold_out_title"), outcome.words);
    } else if (outcome.status === "admission_invalid" || outcome.status === "rate_limited") {
      setState("lost", t("turn_passed"), outcome.words);
    } else {
      message.textContent = outcome.words;
    }
  });
  rejoin.addEventListener("click", () => location.reload());

  if (root.dataset.place === "admitted") askAdmission(); // a refresh after the turn came
  else if (ticket !== null) showFigures(knownAhead || 0, Number(root.dataset.admissionRate) || 0);
  setInterval(tickAdmission, 1000);
  live = window.FluxLive.watch({
    socketPath: "/ws/waiting-room/" + saleId + "/",
    statusUrl: "/waiting-room/" + saleId + "/status.json",
    presence: root.dataset.presence,
    onMode(mode) {
      root.dataset.live = mode;
    },
    onTick: onTick,
  });
})();
