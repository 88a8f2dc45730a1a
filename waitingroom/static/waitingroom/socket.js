// The live figures of a sale: its websocket (one admitter tick every 0.5 s), and
// when the socket fails or closes, the JSON polling endpoint every second until a
// new socket opens. `onTick` gets the same figures either way. A poll sends the
// presence token of the last answer (options.presence at first): the server counts a
// waiting shopper present only on a poll that carries it (waitingroom/presence.py).
"use strict";

window.FluxLive = (function () {
  const POLL_MS = 1000;
  const RECONNECT_MS = 5000;

  function watch(options) {
    let socket = null;
    let pollTimer = null;
    let reconnectTimer = null;
    let stopped = false;
    let presence = options.presence || "";

    function poll() {
      if (!options.statusUrl) return;
      const url = presence ? options.statusUrl + "?presence=" + encodeURIComponent(presence) : options.statusUrl;
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then((response) => (response.ok ? response.json() : null))
        .then((figures) => {
          if (figures && figures.presence) presence = figures.presence;
          if (figures && !stopped) options.onTick(figures, "poll");
        })
        .catch(() => {});
    }

    function startPolling() {
      if (pollTimer || stopped || !options.statusUrl) return;
      poll();
      pollTimer = setInterval(poll, POLL_MS);
    }

    function stopPolling() {
      clearInterval(pollTimer);
      pollTimer = null;
    }

    function connect() {
      if (stopped) return;
      const scheme = location.protocol === "https:" ? "wss://" : "ws://";
      try {
        socket = new WebSocket(scheme + location.host + options.socketPath);
      } catch (error) {
        startPolling();
        return;
      }
      socket.onopen = () => {
        stopPolling();
        if (options.onMode) options.onMode("socket");
      };
      socket.onmessage = (message) => {
        try {
          options.onTick(JSON.parse(message.data), "socket");
        } catch (error) {
          // a message that is not JSON is not ours: ignore it
        }
      };
      socket.onclose = () => {
        socket = null;
        if (stopped) return;
        if (options.onMode) options.onMode("poll");
        startPolling();
        clearTimeout(reconnectTimer);
        reconnectTimer = setTimeout(connect, RECONNECT_MS);
      };
    }

    connect();
    return {
      stop() {
        stopped = true;
        stopPolling();
        clearTimeout(reconnectTimer);
        if (socket) socket.close();
      },
    };
  }

  return { watch: watch };
})();
