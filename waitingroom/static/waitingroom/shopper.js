// The shopper identity a sale's pages buy and wait with: a sale that asks a proof of
// work gives its page a challenge (data-challenge, data-proof-bits) instead of a
// cookie. The page solves it (proof.js) and posts the answer with the fields of the
// shopper check's form, if the site has one (a CAPTCHA: #shopper-check); the server
// then sets the cookie (waitingroom/shopper.py). Solving starts when the page loads,
// so that it is usually done before the shopper clicks.
"use strict";

window.FluxShopper = (function () {
  let proving = null;

  // Resolves once the browser holds a cookie good for the sale of `root` (at once when
  // the page had no challenge); rejects with the server's answer ({status, detail}).
  function ready(root, onProgress) {
    const challenge = root.dataset.challenge;
    if (!challenge) return Promise.resolve();
    if (!proving) {
      proving = prove(root, challenge, onProgress).then(
        () => {
          delete root.dataset.challenge;
        },
        (error) => {
          proving = null; // the next click tries again
          throw error;
        },
      );
    }
    return proving;
  }

  async function prove(root, challenge, onProgress) {
    const bits = Number(root.dataset.proofBits) || 0;
    const nonce = await window.FluxProof.solve(challenge, bits, (done, expected) => {
      root.dataset.proofDone = String(done);
      if (onProgress) onProgress(done, expected);
    });
    const checkForm = document.getElementById("shopper-check");
    const form = checkForm ? new FormData(checkForm) : new FormData();
    form.set("challenge", challenge);
    form.set("nonce", nonce);
    let response;
    try {
      response = await fetch("/sales/" + root.dataset.saleId + "/shopper.json", {
        method: "POST",
        body: form,
        headers: { "X-CSRFToken": root.dataset.csrf, Accept: "application/json" },
        credentials: "same-origin",
      });
    } catch (error) {
      throw { status: "network" };
    }
    let answer = {};
    try {
      answer = await response.json();
    } catch (error) {
      answer = {};
    }
    root.dataset.proof = answer.status || "unexpected";
    if (!response.ok) throw answer;
  }

  return { ready: ready };
})();
