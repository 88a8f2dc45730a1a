// The dashboards' websocket: opens it on the page's own address, hands each message
// to `onMessage`, says its state to `onState` (connecting, live, retrying) and
// reconnects by itself after 1, 2, 4 … 10 s. A refused handshake (signed out, not
// this merchant's sale) is a close like any other: the page says it is retrying.
"use strict";

window.fluxDashboardSocket = function (path, onMessage, onState) {
  let delay = 1000;
  function open() {
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    const socket = new WebSocket(scheme + location.host + path);
    onState("connecting");
    socket.onopen = function () { delay = 1000; onState("live"); };
    socket.onmessage = function (event) { onMessage(JSON.parse(event.data)); };
    socket.onclose = function () {
      onState("retrying");
      setTimeout(open, delay);
      delay = Math.min(delay * 2, 10000);
    };
  }
  open();
};
