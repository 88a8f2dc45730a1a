// A sale's live dashboard (templates: dashboard/sale.html). The ticker sends one
// point a second over /ws/dashboard/sales/<id>/ (its history first, on every
// connect); the tiles show the latest, uPlot charts the last minutes (units sold:
// the whole history). The controls call the merchant API with the session's CSRF
// token; the next point (within a second) shows their effect.
"use strict";

(function () {
  const root = document.getElementById("dashboard");
  const api = root.dataset.api;
  const csrf = root.querySelector("[name=csrfmiddlewaretoken]").value;
  const WINDOW_S = 300; // the rate charts' view: the last five minutes
  const REASONS = [
    ["sold_out", "sold out", "#ba2121"],
    ["rate_limited", "to the queue", "#e08a00"],
    ["limit_reached", "limit reached", "#7b4fa6"],
    ["unavailable", "unavailable", "#666666"],
    ["other", "paused / not open", "#8c6d46"],
  ];
  const points = [];
  const charts = {};
  const $ = (id) => document.getElementById(id);

  function fmt(value, digits) {
    if (value === null || value === undefined) return "—";
    return Number(value).toLocaleString(undefined, { maximumFractionDigits: digits ?? 0 });
  }

  // --- charts --------------------------------------------------------------------------

  const fg = getComputedStyle(document.body).getPropertyValue("--body-fg").trim() || "#333";
  const grid = getComputedStyle(document.body).getPropertyValue("--hairline-color").trim() || "#e8e8e8";

  function chart(id, series, fromData) {
    const element = $(id);
    const options = {
      width: Math.max(280, element.clientWidth),
      height: 200,
      legend: { live: false },
      cursor: { show: false },
      scales: { x: { time: true } },
      axes: [
        // Time in UTC, 24 hours, as everywhere in the console; spaced so that labels never overlap.
        {
          stroke: fg, grid: { stroke: grid }, space: 80, label: "UTC", labelSize: 16,
          values: (u, splits) => splits.map((s) => new Date(s * 1000).toISOString().slice(11, 19)),
        },
        { stroke: fg, grid: { stroke: grid }, size: 56 },
      ],
      series: [{}, ...series.map(([label, stroke]) => ({ label, stroke, width: 1.5, points: { show: false } }))],
    };
    const plot = new uPlot(options, [[], ...series.map(() => [])], element);
    charts[id] = { plot, fromData, element };
  }

  function seriesOf(selected, pick) {
    return [selected.map((p) => p.t / 1000), ...pick.map((f) => selected.map(f))];
  }

  function drawCharts() {
    if (!points.length) return;
    const last = points[points.length - 1].t;
    const recent = points.filter((p) => p.t >= last - WINDOW_S * 1000);
    for (const { plot, fromData } of Object.values(charts)) plot.setData(fromData(recent, points));
  }

  function setUpCharts() {
    chart("chart-orders", [["accepted", "#2e7d32"], ...REASONS.map(([, label, color]) => [label, color])],
      (recent) => seriesOf(recent, [
        (p) => p.accepted_per_s,
        ...REASONS.map(([name]) => (p) => (p.refused_per_s ? p.refused_per_s[name] : null)),
      ]));
    chart("chart-stock", [["units sold", "#2e7d32"], ["remaining", "#417690"]],
      (recent, all) => seriesOf(all, [(p) => p.sold, (p) => p.remaining]));
    chart("chart-queue", [["waiting", "#e08a00"], ["admitted /s", "#417690"]],
      (recent) => seriesOf(recent, [(p) => p.waiting, (p) => p.admitted_per_s]));
    chart("chart-latency", [["p50 ms", "#417690"], ["p99 ms", "#ba2121"]],
      (recent) => seriesOf(recent, [(p) => p.p50_ms, (p) => p.p99_ms]));
    chart("chart-pipeline", [["consumer lag", "#7b4fa6"], ["drift", "#ba2121"]],
      (recent) => seriesOf(recent, [(p) => p.consumer_lag, (p) => p.drift]));
    window.addEventListener("resize", () => {
      for (const { plot, element } of Object.values(charts)) {
        plot.setSize({ width: Math.max(280, element.clientWidth), height: 200 });
      }
    });
  }

  // --- tiles ---------------------------------------------------------------------------

  function showTiles(p) {
    const status = $("dash-status");
    status.textContent = p.status.replace("_", " ");
    status.dataset.status = p.status;
    // The server's time, in UTC as everywhere in the console (not the browser's zone).
    $("dash-updated").textContent = new Date(p.t).toISOString().slice(11, 19) + " UTC";
    $("tile-accepted").textContent = fmt(p.accepted_per_s, 1);
    const refused = p.refused_per_s;
    $("tile-refused").textContent = refused ? fmt(Object.values(refused).reduce((a, b) => a + b, 0), 1) : "—";
    $("tile-refused-reasons").textContent = refused
      ? REASONS.filter(([name]) => refused[name] > 0).map(([name, label]) => `${label} ${fmt(refused[name], 1)}`).join(" · ")
      : "";
    const gauge = $("stock-gauge");
    gauge.max = p.quantity;
    gauge.value = p.remaining;
    gauge.low = Math.ceil(p.quantity / 10);
    gauge.high = Math.ceil(p.quantity / 2);
    gauge.optimum = p.quantity;
    $("tile-remaining").textContent = `${fmt(p.remaining)} of ${fmt(p.quantity)}`;
    $("tile-sold").textContent = fmt(p.sold);
    $("tile-waiting").textContent = fmt(p.waiting);
    // Before the start the queue is the pre-queue: nobody is admitted until it is drawn.
    const prequeue = p.status === "scheduled";
    $("tile-waiting-label").textContent = prequeue ? "Line for the start" : "Waiting room";
    $("tile-admissions").textContent = prequeue
      ? `shuffled at the start, then ${fmt(p.admission_rate)}/s`
      : `admitting ${fmt(p.admitted_per_s, 1)}/s of ${fmt(p.admission_rate)}/s`;
    $("tile-wait").textContent = p.waiting ? (p.wait_s === null ? "—" : `${fmt(p.wait_s, 1)} s`) : "none";
    $("tile-lag").textContent = fmt(p.consumer_lag);
    $("tile-persisted").textContent = `${fmt(p.units_persisted)} / ${fmt(p.sold)}`;
    $("tile-drift").textContent = p.drift === null ? "" : `drift ${fmt(p.drift)}`;
    $("tile-anomalies").textContent = fmt(p.anomalies);
    $("tile-latency").textContent = p.p50_ms === null ? "—" : `${fmt(p.p50_ms, 2)} / ${fmt(p.p99_ms, 2)} ms`;
    enableControls(p.status);
  }

  // --- the stream --------------------------------------------------------------------

  function add(point) {
    // A point may come twice (the history and a tick sent meanwhile): one per time, in order.
    if (points.length && point.t <= points[points.length - 1].t) return false;
    points.push(point);
    if (points.length > 4000) points.splice(0, points.length - 4000);
    return true;
  }

  function onMessage(message) {
    if (message.type === "dashboard.history") {
      points.length = 0;
      message.points.forEach(add);
    } else if (message.type === "dashboard.point") {
      if (!add(message.point)) return;
    } else {
      return;
    }
    if (points.length) showTiles(points[points.length - 1]);
    drawCharts();
  }

  function onState(state) {
    const element = $("dash-connection");
    element.dataset.state = state;
    element.textContent = { connecting: "connecting…", live: "connected", retrying: "reconnecting…" }[state];
  }

  // --- live controls: the merchant API, with the session -----------------------------

  const ALLOWED = {
    pause: ["live", "sold_out"],
    resume: ["paused"],
    end: ["draft", "scheduled", "live", "paused", "sold_out"],
  };

  function enableControls(status) {
    root.querySelectorAll("[data-move]").forEach((button) => {
      button.disabled = !ALLOWED[button.dataset.move].includes(status);
    });
    const open = status !== "ended";
    root.querySelectorAll("#dash-restock button, #dash-rates button").forEach((b) => { b.disabled = !open; });
  }

  async function call(method, path, body) {
    const response = await fetch(api + path, {
      method,
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrf, Accept: "application/json", "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const answer = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(answer.detail || `The server answered ${response.status}.`);
    return answer;
  }

  function say(text, failed) {
    const message = $("dash-message");
    message.textContent = text;
    message.classList.toggle("dash-error", Boolean(failed));
  }

  async function act(what, method, path, body, done) {
    try {
      const sale = await call(method, path, body);
      say(done(sale));
    } catch (error) {
      say(`${what}: ${error.message}`, true);
    }
  }

  const MOVES = { pause: "Paused", resume: "Resumed", end: "Ended" };
  root.querySelectorAll("[data-move]").forEach((button) => {
    button.addEventListener("click", () => {
      const move = button.dataset.move;
      if (button.dataset.confirm && !window.confirm(button.dataset.confirm)) return;
      act(button.textContent, "POST", `/${move}`, undefined, (sale) => `${MOVES[move]}: the sale is now ${sale.status}.`);
    });
  });
  $("dash-restock").addEventListener("submit", (event) => {
    event.preventDefault();
    const units = Number($("dash-units").value);
    act("Restock", "POST", "/restock", { units }, (sale) => `Restocked: the sale now offers ${sale.quantity} units.`);
  });
  $("dash-rates").addEventListener("submit", (event) => {
    event.preventDefault();
    const rates = {
      admission_rate: Number($("dash-admission-rate").value),
      rate: Number($("dash-rate").value),
      burst: Number($("dash-burst").value),
    };
    act("Rates", "PATCH", "", rates, (sale) =>
      `Rates applied: admission ${sale.admission_rate}/s, bucket ${sale.rate}/s (burst ${sale.burst}).`);
  });

  // What the page holds, for a look from the browser's console (and the browser test).
  window.fluxDashboard = { points, charts };
  enableControls($("dash-status").dataset.status);
  setUpCharts();
  window.fluxDashboardSocket(root.dataset.wsPath, onMessage, onState);
})();
