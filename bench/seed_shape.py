"""The seed system's own load test, in shape, against any server that speaks its API.

The seed's k6 script (load-test.k6.js) sets up 100 units of `iphone-15` with
POST /init, then has up to 100 virtual users post POST /order {productId, userId}
back to back, each request with a new userId and x-idempotency-key, redirects not
followed; it counts 200, 302 and 409 as expected. k6 itself is not used here (its
licence keeps it out of this project), so wrk plays the crowd with bench/buy.lua's
`sku:` mode: the same requests, 100 connections for BENCH_SECONDS.

    .venv/bin/python bench/seed_shape.py http://127.0.0.1:8000 --token "$(.venv/bin/python manage.py create_api_token demo)"
    .venv/bin/python bench/seed_shape.py http://127.0.0.1:3000     # the seed's Node.js API, if you run it

Prints one line: requests/s, p50, p99, the statuses, and the units sold (200s).
Each server applies its own policy: its rate limit decides how many 302s there are.

The seed's clients name the shopper in the body (userId), which Flux-Gate trusts
only in demo mode: run the server with FLUX_DEMO_MODE=true (one probe checks it first).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SECONDS = int(os.environ.get("BENCH_SECONDS", "15"))
CONNECTIONS = int(os.environ.get("BENCH_SEED_CONNECTIONS", "100"))  # the k6 script's peak
PRODUCT, UNITS = "iphone-15", 100


def init(url: str, token: str | None) -> None:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    body = json.dumps({"productId": PRODUCT, "quantity": UNITS}).encode()
    request = urllib.request.Request(f"{url}/init", data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            print(f"POST /init: {response.status} {response.read().decode()}")
    except urllib.error.HTTPError as error:
        raise SystemExit(f"POST /init: {error.code} {error.read().decode()}") from None


def require_demo_mode(url: str) -> None:
    """Stop unless the server trusts a body's user id (bench/buy.lua sends one per
    request). Flux-Gate outside demo mode answers 401 shopper_required; the probe
    names a sale that does not exist, so it buys nothing anywhere."""
    request = urllib.request.Request(
        f"{url}/api/v1/sales/0/buy",
        data=json.dumps({"user_id": "bench-probe"}).encode(),
        headers={"Content-Type": "application/json", "Idempotency-Key": "bench-probe"},
        method="POST",
    )
    try:
        urllib.request.urlopen(request, timeout=10).close()
    except urllib.error.HTTPError as error:
        if error.code == 401:
            raise SystemExit(
                f"{url} is not in demo mode: the load names shoppers in the body, which only "
                "FLUX_DEMO_MODE=true trusts (restart its processes with it)"
            ) from None


def crowd(url: str, seconds: int = SECONDS, tokens: Path | None = None) -> dict:
    """The crowd on POST /order; with `tokens`, each request proves its shopper with one."""
    command = [
        "wrk", "-t1", f"-c{CONNECTIONS}", f"-d{seconds}s", "--latency", "-s", str(ROOT / "bench" / "buy.lua"),
        url, "--", f"sku:{PRODUCT}", *([str(tokens)] if tokens else []),
    ]  # fmt: skip
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url", nargs="?", default="http://127.0.0.1:8000")
    parser.add_argument("--token", help="a merchant API token (Flux-Gate's /init needs one)")
    args = parser.parse_args()
    require_demo_mode(args.url)
    init(args.url, args.token)
    result = crowd(args.url)
    rps = result["requests"] / (result["duration_us"] / 1e6)
    print(
        f"{args.url}: {rps:,.0f} requests/s, p50 {result['p50_us'] / 1000:.1f} ms, "
        f"p99 {result['p99_us'] / 1000:.1f} ms, statuses {result['statuses']}, "
        f"units sold {result['statuses'].get('200', 0)} of {UNITS}, socket errors {result['errors']}"
    )


if __name__ == "__main__":
    main()
