"""The proof of work's arithmetic alone (no Django): what proof.js finds, for the
server's check (waitingroom/proof.py) and for load tools that play a page
(rehearsal/locustfile.py runs on machines that never configure Django)."""

from __future__ import annotations

import hashlib


def leading_zero_bits(digest: bytes) -> int:
    """How many bits at the start of `digest` are zero (all of them for all zeros)."""
    return len(digest) * 8 - int.from_bytes(digest, "big").bit_length()


def work_done(challenge: str, nonce: str) -> int:
    """The zero bits that start sha256("<challenge>:<nonce>"): what proof.js looks for."""
    return leading_zero_bits(hashlib.sha256(f"{challenge}:{nonce}".encode()).digest())


def solve(challenge: str, bits: int) -> str:
    """The first nonce "0", "1", ... that does `bits` of work on `challenge` (the one
    proof.js finds). The caller bounds `bits` (about 2**bits hashes)."""
    if bits <= 0:
        return "0"
    prefix = hashlib.sha256(f"{challenge}:".encode())  # hashed once; each nonce continues a copy
    # At least `bits` zero bits <=> the digest, as a big-endian number, is below 2**(256 - bits);
    # comparing the bytes compares the numbers without making one.
    below = (1 << (256 - bits)).to_bytes(32, "big")
    nonce = 0
    while True:
        attempt = prefix.copy()
        attempt.update(b"%d" % nonce)
        if attempt.digest() < below:
            return str(nonce)
        nonce += 1
