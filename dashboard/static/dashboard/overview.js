// The overview of the user's live sales (templates: dashboard/overview.html): one row
// per sale, moved by /ws/dashboard/ (the latest point of each sale on connect, then
// each tick); sales that go live later are added when the socket lists them.
"use strict";

(function () {
  const root = document.getElementById("overview");
  const body = root.querySelector("tbody");
  const fmt = (v, d) => (v === null || v === undefined ? "—" : Number(v).toLocaleString(undefined, { maximumFractionDigits: d ?? 0 }));

  function row(saleId, name) {
    let tr = body.querySelector(`tr[data-sale-id="${saleId}"]`);
    if (!tr && name !== undefined) {
      tr = document.createElement("tr");
      tr.dataset.saleId = saleId;
      const th = document.createElement("th");
      th.scope = "row";
      const link = document.createElement("a");
      link.href = `/admin/sales/sale/${saleId}/dashboard/`;
      link.textContent = name;
      th.append(link, ` #${saleId}`);
      tr.append(th);
      for (const field of ["status", "accepted", "refused", "remaining", "waiting", "lag", "drift", "p99"]) {
        const td = document.createElement("td");
        td.dataset.field = field;
        td.textContent = "—";
        tr.append(td);
      }
      body.append(tr);
    }
    return tr;
  }

  function show(p) {
    const tr = row(p.sale_id);
    if (!tr) return;
    const set = (field, text) => { tr.querySelector(`[data-field="${field}"]`).textContent = text; };
    const refused = p.refused_per_s ? Object.values(p.refused_per_s).reduce((a, b) => a + b, 0) : null;
    set("status", p.status.replace("_", " "));
    set("accepted", fmt(p.accepted_per_s, 1));
    set("refused", fmt(refused, 1));
    set("remaining", `${fmt(p.remaining)} of ${fmt(p.quantity)}`);
    set("waiting", fmt(p.waiting));
    set("lag", fmt(p.consumer_lag));
    set("drift", fmt(p.drift));
    set("p99", fmt(p.p99_ms, 2));
  }

  function onMessage(message) {
    if (message.type === "dashboard.sales") {
      const listed = new Set(message.sales.map((s) => String(s.sale_id)));
      message.sales.forEach((s) => row(s.sale_id, s.product_name));
      body.querySelectorAll("tr").forEach((tr) => { if (!listed.has(tr.dataset.saleId)) tr.remove(); });
      document.getElementById("overview-empty").hidden = message.sales.length > 0;
      message.points.forEach(show);
    } else if (message.type === "dashboard.point") {
      show(message.point);
    }
  }

  function onState(state) {
    const element = document.getElementById("dash-connection");
    element.dataset.state = state;
    element.textContent = { connecting: "connecting…", live: "connected", retrying: "reconnecting…" }[state];
  }

  window.fluxDashboardSocket(root.dataset.wsPath, onMessage, onState);
})();
