// The line is not open yet: the page loads again when the server said it opens
// (data-opens-in-ms, counted on Redis's clock when the page was drawn), give or take
// two seconds so that a crowd waiting on this page does not arrive in one instant.
"use strict";

(function () {
  const soon = document.getElementById("soon");
  const inMs = Number(soon.dataset.opensInMs) || 60000;
  setTimeout(() => location.reload(), inMs + Math.floor(Math.random() * 2000));
})();
