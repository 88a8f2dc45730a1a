// The words the server put on the page in the shopper's language (waitingroom/words.py):
// FluxWords.t("key", {name: value}) fills the %(name)s placeholders.
"use strict";

window.FluxWords = (function () {
  const node = document.getElementById("flux-words");
  const words = node ? JSON.parse(node.textContent) : {};

  function t(key, values) {
    const text = words[key] === undefined ? key : words[key];
    if (!values) return text;
    return String(text).replace(/%\((\w+)\)s/g, (whole, name) => (name in values ? String(values[name]) : whole));
  }

  return { t: t, words: words };
})();
