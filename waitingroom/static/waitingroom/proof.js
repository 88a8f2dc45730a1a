// Proof of work before the hosted pages give this browser a shopper identity
// (waitingroom/proof.py makes and checks the challenge): find the first nonce
// "0", "1", ... such that sha256(challenge + ":" + nonce) starts with `bits` zero
// bits, about 2**bits hashes.
//
// SHA-256 is written out here because crypto.subtle.digest costs a promise per
// hash, far too slow for 2**bits of them. The prefix challenge + ":" never changes,
// so its whole 64-byte blocks are hashed once (the midstate) and each nonce hashes
// only the last one or two blocks, in which the nonce is a decimal counter
// incremented in place. ASCII text only: the server's challenges are.
"use strict";

(function () {
  // prettier-ignore
  const K = new Int32Array([
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
  ]);
  const IV = new Int32Array([
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
  ]);
  const YIELD_EVERY = 1 << 15; // hashes between two turns of the event loop: a few milliseconds
  const MAX_NONCE_DIGITS = 16; // what proof.py accepts
  const DIGIT_0 = 48;
  const DIGIT_9 = 57;

  const schedule = new Int32Array(64); // the message schedule, reused by every compression

  // One SHA-256 compression: `into` = `from` moved on by the 16 words of `block` at `at`
  // (`into` may be `from`). Int32 throughout: `| 0` keeps every sum a 32-bit integer.
  function compress(from, into, block, at) {
    const w = schedule;
    for (let t = 0; t < 16; t++) w[t] = block[at + t];
    for (let t = 16; t < 64; t++) {
      const x = w[t - 15];
      const y = w[t - 2];
      const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
      const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
      w[t] = (w[t - 16] + s0 + w[t - 7] + s1) | 0;
    }
    let a = from[0];
    let b = from[1];
    let c = from[2];
    let d = from[3];
    let e = from[4];
    let f = from[5];
    let g = from[6];
    let h = from[7];
    for (let t = 0; t < 64; t++) {
      const s1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
      const choice = g ^ (e & (f ^ g)); // (e & f) ^ (~e & g), one operation fewer
      const t1 = (h + s1 + choice + K[t] + w[t]) | 0;
      const s0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
      const majority = (a & b) | (c & (a | b)); // (a & b) ^ (a & c) ^ (b & c)
      const t2 = (s0 + majority) | 0;
      h = g;
      g = f;
      f = e;
      e = (d + t1) | 0;
      d = c;
      c = b;
      b = a;
      a = (t1 + t2) | 0;
    }
    into[0] = (from[0] + a) | 0;
    into[1] = (from[1] + b) | 0;
    into[2] = (from[2] + c) | 0;
    into[3] = (from[3] + d) | 0;
    into[4] = (from[4] + e) | 0;
    into[5] = (from[5] + f) | 0;
    into[6] = (from[6] + g) | 0;
    into[7] = (from[7] + h) | 0;
  }

  // The big-endian words of bytes[4 * first .. 4 * last + 3] into words[first .. last].
  function pack(bytes, words, first, last) {
    for (let i = first; i <= last; i++) {
      words[i] = (bytes[4 * i] << 24) | (bytes[4 * i + 1] << 16) | (bytes[4 * i + 2] << 8) | bytes[4 * i + 3];
    }
  }

  // text[from .. to) as bytes into bytes[at ..]; a TypeError for anything but ASCII,
  // which Python's UTF-8 would hash differently.
  function putAscii(text, from, to, bytes, at) {
    for (let i = from; i < to; i++) {
      const code = text.charCodeAt(i);
      if (code > 127) throw new TypeError("FluxProof hashes ASCII text only");
      bytes[at + i - from] = code;
    }
  }

  // SHA-256's padding after the `used` bytes of the message's tail in `bytes` (128 of
  // them), for a message of `length` bytes in all; the tail's blocks: 1 or 2.
  function pad(bytes, used, length) {
    const blocks = used + 9 <= 64 ? 1 : 2;
    const end = blocks * 64;
    bytes[used] = 0x80;
    bytes.fill(0, used + 1, end - 8);
    const bitLength = length * 8;
    const high = Math.floor(bitLength / 0x100000000);
    const low = bitLength >>> 0;
    for (let i = 0; i < 4; i++) {
      bytes[end - 8 + i] = high >>> (24 - 8 * i);
      bytes[end - 4 + i] = low >>> (24 - 8 * i);
    }
    return blocks;
  }

  // The state after the whole 64-byte blocks of `text`.
  function midstate(text) {
    const state = IV.slice();
    const bytes = new Uint8Array(64);
    const words = new Int32Array(16);
    for (let at = 0; at + 64 <= text.length; at += 64) {
      putAscii(text, at, at + 64, bytes, 0);
      pack(bytes, words, 0, 15);
      compress(state, state, words, 0);
    }
    return state;
  }

  function zeroBits(state) {
    let zeros = 0;
    for (let i = 0; i < 8; i++) {
      const z = Math.clz32(state[i]);
      zeros += z;
      if (z < 32) break;
    }
    return zeros;
  }

  function sha256Hex(text) {
    const state = midstate(text);
    const whole = text.length - (text.length % 64);
    const bytes = new Uint8Array(128);
    const words = new Int32Array(32);
    putAscii(text, whole, text.length, bytes, 0);
    const blocks = pad(bytes, text.length - whole, text.length);
    pack(bytes, words, 0, 16 * blocks - 1);
    for (let block = 0; block < blocks; block++) compress(state, state, words, 16 * block);
    let hex = "";
    for (let i = 0; i < 8; i++) hex += (state[i] >>> 0).toString(16).padStart(8, "0");
    return hex;
  }

  // A search over the nonces of one challenge; run(count) tries up to `count` of them
  // and answers whether the current one does the work.
  function search(challenge, bits) {
    const prefix = challenge + ":";
    const whole = prefix.length - (prefix.length % 64);
    const mid = midstate(prefix); // the constant part, hashed once
    const kept = prefix.length - whole; // the prefix's bytes in the tail
    const bytes = new Uint8Array(128); // the tail: the rest of the prefix, the nonce, the padding
    const words = new Int32Array(32);
    const state = new Int32Array(8);
    const firstWordBits = Math.min(bits, 32);
    putAscii(prefix, whole, prefix.length, bytes, 0);
    let digits = 1;
    let blocks = 0;

    // Nonce "1000..." of `digits` digits, and the padding after it.
    function layOut() {
      if (digits > MAX_NONCE_DIGITS) throw new Error("FluxProof: no nonce of up to 16 digits does the work");
      bytes[kept] = digits === 1 ? DIGIT_0 : DIGIT_0 + 1;
      bytes.fill(DIGIT_0, kept + 1, kept + digits);
      blocks = pad(bytes, kept + digits, prefix.length + digits);
      pack(bytes, words, 0, 16 * blocks - 1);
    }

    // The next nonce: the last digit counts up, carrying into those before it; only
    // the words whose digits changed are packed again.
    function increment() {
      const last = kept + digits - 1;
      let at = last;
      while (at >= kept && bytes[at] === DIGIT_9) bytes[at--] = DIGIT_0;
      if (at < kept) {
        digits++;
        layOut();
      } else {
        bytes[at]++;
        pack(bytes, words, at >> 2, last >> 2);
      }
    }

    function run(count) {
      for (let i = 0; i < count; i++) {
        compress(mid, state, words, 0);
        if (blocks === 2) compress(state, state, words, 16);
        if (Math.clz32(state[0]) >= firstWordBits && (bits <= 32 || zeroBits(state) >= bits)) return true;
        increment();
      }
      return false;
    }

    function nonce() {
      return String.fromCharCode.apply(null, bytes.subarray(kept, kept + digits));
    }

    layOut();
    return { run: run, nonce: nonce };
  }

  // A turn of the event loop. A MessageChannel's message, where there is one: browsers
  // hold a chain of setTimeout(0) back to 4 ms each, longer than the hashing between turns.
  function turns() {
    if (typeof MessageChannel !== "function") {
      return { next: () => new Promise((resolve) => setTimeout(resolve, 0)), close: () => {} };
    }
    const channel = new MessageChannel();
    let waiting = null;
    channel.port1.onmessage = () => waiting();
    return {
      next: () =>
        new Promise((resolve) => {
          waiting = resolve;
          channel.port2.postMessage(null);
        }),
      close: () => channel.port1.close(), // an open port would keep node running
    };
  }

  // The nonce that does `bits` of work on `challenge`. onProgress(hashesDone, expected)
  // is called between turns: the page's progress bar (hashesDone may pass expected).
  async function solve(challenge, bits, onProgress) {
    if (typeof challenge !== "string") throw new TypeError("FluxProof.solve: the challenge must be a string");
    if (!Number.isInteger(bits) || bits < 0 || bits > 256) {
      throw new RangeError("FluxProof.solve: bits must be an integer from 0 to 256");
    }
    const found = search(challenge, bits);
    const expected = 2 ** bits;
    const loop = turns();
    try {
      let done = 0;
      while (!found.run(YIELD_EVERY)) {
        done += YIELD_EVERY;
        if (onProgress) onProgress(done, expected);
        await loop.next();
      }
    } finally {
      loop.close();
    }
    return found.nonce();
  }

  const FluxProof = { solve: solve, sha256Hex: sha256Hex };
  if (typeof window !== "undefined") window.FluxProof = FluxProof;
  if (typeof module !== "undefined") module.exports = FluxProof;
})();
