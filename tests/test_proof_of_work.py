"""The proof of work before a shopper identity (waitingroom/proof.py): a solved
challenge passes; too little work, another sale's challenge, an expired one, a
tampered one and a malformed nonce are refused; and the browser's solver
(static/waitingroom/proof.js, run under node) finds the nonce Python accepts,
hashing as hashlib does. Pure functions: no server, no database."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from waitingroom import hashcash, proof
from waitingroom.proof import CHALLENGE_SECONDS, MAX_BITS, ProofRefused, challenge_check, challenge_new

PROOF_JS = Path(proof.__file__).resolve().parent / "static" / "waitingroom" / "proof.js"
NOW = 1_800_000_000.0
SALE_ID = 42
BITS = 8  # a few hundred hashes: quick in tests, and still refuses most nonces


def solved(bits: int = BITS, sale_id: int = SALE_ID, now: float = NOW) -> tuple[str, str]:
    challenge = challenge_new(sale_id=sale_id, bits=bits, now=now)
    return challenge, proof.solve(challenge, bits)


def refusal(challenge: str, nonce: str, *, sale_id: int = SALE_ID, now: float = NOW) -> str:
    with pytest.raises(ProofRefused) as refused:
        challenge_check(challenge, nonce, sale_id=sale_id, now=now)
    return refused.value.detail


def test_a_solved_challenge_passes() -> None:
    challenge, nonce = solved()

    found = challenge_check(challenge, nonce, sale_id=SALE_ID, now=NOW)

    assert (found.sale_id, found.bits, found.expires) == (SALE_ID, BITS, int(NOW) + CHALLENGE_SECONDS)
    assert proof.work_done(challenge, nonce) >= BITS
    assert re.fullmatch(r"[A-Za-z0-9_-]{16}", found.id)


def test_each_challenge_is_new_and_safe_in_a_url_or_an_attribute() -> None:
    challenges = {challenge_new(sale_id=SALE_ID, bits=MAX_BITS, now=NOW) for _ in range(20)}

    assert len(challenges) == 20
    for challenge in challenges:
        assert re.fullmatch(r"[A-Za-z0-9._:-]+", challenge), challenge


def test_too_little_work_is_refused() -> None:
    challenge = challenge_new(sale_id=SALE_ID, bits=16, now=NOW)
    short = next(str(n) for n in range(1000) if proof.work_done(challenge, str(n)) < 16)

    assert "16 zero bits" in refusal(challenge, short)


def test_another_sales_challenge_is_refused() -> None:
    challenge, nonce = solved(sale_id=SALE_ID)

    assert f"sale {SALE_ID}, not sale {SALE_ID + 1}" in refusal(challenge, nonce, sale_id=SALE_ID + 1)


def test_a_challenge_lasts_challenge_seconds() -> None:
    challenge, nonce = solved(now=NOW)

    challenge_check(challenge, nonce, sale_id=SALE_ID, now=NOW + CHALLENGE_SECONDS - 1)
    assert "expired" in refusal(challenge, nonce, now=NOW + CHALLENGE_SECONDS)


def test_a_tampered_signature_is_refused() -> None:
    challenge, nonce = solved()
    payload, signature = challenge.split(":")
    other = "A" if signature[0] != "A" else "B"

    assert "not signed by Flux-Gate" in refusal(f"{payload}:{other}{signature[1:]}", nonce)


def test_a_challenge_whose_bits_were_lowered_is_refused() -> None:
    challenge = challenge_new(sale_id=SALE_ID, bits=20, now=NOW)
    easier = challenge.replace(f"{SALE_ID}.20.", f"{SALE_ID}.1.", 1)

    assert "not signed by Flux-Gate" in refusal(easier, proof.solve(easier, 1))


@pytest.mark.parametrize(
    "payload", ["42.8.1800000600", "42.8.1800000600.short", f"42.{MAX_BITS + 1}.1800000600.AAAAAAAAAAAAAAAA"]
)
def test_a_signed_payload_not_made_here_is_refused(payload: str) -> None:
    assert "not in a form" in refusal(proof._signer().sign(payload), "0")


@pytest.mark.parametrize("challenge", ["7" * 201, "42.8.1800000600.AAAAAAAAAAAAAAAé:x", "\ud800:x"])
def test_a_challenge_over_long_or_not_ascii_is_refused(challenge: str) -> None:
    assert "not one Flux-Gate gives" in refusal(challenge, "0")


@pytest.mark.parametrize("nonce", ["", "12a", "-1", "1.0", " 1", "1\n", "²", "١", "1" * 17])
def test_a_malformed_nonce_is_refused(nonce: str) -> None:
    challenge, _ = solved()

    assert "1 to 16 digits" in refusal(challenge, nonce)


def test_bits_beyond_max_bits_are_not_asked() -> None:
    with pytest.raises(ValueError):
        challenge_new(sale_id=SALE_ID, bits=MAX_BITS + 1)


@pytest.mark.parametrize(
    ("digest", "zeros"),
    [
        (bytes(32), 256),
        (b"\xff" + bytes(31), 0),
        (b"\x80", 0),
        (b"\x7f", 1),
        (b"\x0f\xff", 4),
        (b"\x00\x80", 8),
        (b"\x00\x01", 15),
        (b"\x00\x00\x00\x01", 31),
        (hashlib.sha256(b"abc").digest(), 0),  # ba7816bf...
    ],
)
def test_leading_zero_bits(digest: bytes, zeros: int) -> None:
    assert hashcash.leading_zero_bits(digest) == zeros


# --- the browser's solver, under node ------------------------------------------------------

NODE_SCRIPT = """
const FluxProof = require(process.argv[1]);
const asked = JSON.parse(require("fs").readFileSync(0, "utf8"));
(async () => {
  const progress = [];
  const answer = {
    hex: asked.texts.map(FluxProof.sha256Hex),
    nonces: [],
    progressNonce: await FluxProof.solve(asked.progress[0], asked.progress[1], (done, expected) =>
      progress.push([done, expected])),
    progress: progress,
  };
  for (const [challenge, bits] of asked.solve) answer.nonces.push(await FluxProof.solve(challenge, bits));
  process.stdout.write(JSON.stringify(answer));
})().catch((error) => { console.error(error); process.exit(1); });
"""


def run_proof_js(asked: dict[str, Any]) -> dict[str, Any]:
    node = shutil.which("node")
    assert node, "node is needed to run static/waitingroom/proof.js (Debian: apt-get install nodejs)"
    done = subprocess.run(
        [node, "-e", NODE_SCRIPT, str(PROOF_JS)],
        input=json.dumps(asked),
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_the_browser_solver_finds_the_nonce_python_accepts_and_hashes_as_hashlib() -> None:
    challenge = challenge_new(sale_id=SALE_ID, bits=12, now=NOW)
    # SHA-256's padding edges (55 bytes is the most one block holds), and texts of
    # several blocks; for solving, prefixes ("<challenge>:") of one to three blocks
    # whose nonce starts at the edges of a block.
    texts = ["", "abc", *("x" * length for length in (55, 56, 63, 64, 65, 119, 120, 130, 300))]
    texts.append(challenge * 3)
    others = [("c" * length, 8) for length in (54, 55, 62, 63, 64, 127, 190)]
    progress = ("7.16.1700000000.progress00000000", 16)  # its nonce is 155041: several turns

    answer = run_proof_js({"texts": texts, "solve": [(challenge, 12), *others], "progress": progress})

    assert answer["hex"] == [hashlib.sha256(text.encode()).hexdigest() for text in texts]
    nonce = answer["nonces"][0]
    assert challenge_check(challenge, nonce, sale_id=SALE_ID, now=NOW).bits == 12
    assert answer["nonces"] == [proof.solve(text, bits) for text, bits in [(challenge, 12), *others]]
    assert answer["progressNonce"] == proof.solve(*progress)
    done = [call[0] for call in answer["progress"]]
    assert done and done == sorted(done) and done[-1] <= int(answer["progressNonce"]) + 1
    assert {call[1] for call in answer["progress"]} == {2**16}
