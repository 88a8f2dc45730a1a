// The waiting room of a sale that asks a proof of work, for a browser without a
// shopper cookie good for it: solve the challenge (shopper.js), then load the page
// again, which now gives the shopper its place in line.
"use strict";

(function () {
  const root = document.getElementById("proving");
  const progress = document.getElementById("proof-progress");
  const message = document.getElementById("message");
  window.FluxShopper.ready(root, (done, expected) => {
    progress.value = Math.min(99, Math.round((100 * done) / expected));
  }).then(
    () => location.reload(),
    (answer) => {
      message.textContent = (answer && answer.detail) || window.FluxWords.t("reload");
    },
  );
})();
