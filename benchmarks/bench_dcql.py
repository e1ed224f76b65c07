"""DCQL matching benchmark: a 5-claim query over 10,000 wallet credentials.

    python benchmarks/bench_dcql.py [--runs 50] [--credentials 10000] [--seed 7]

Builds the credentials deterministically (seeded `random.Random`), then reports median times:
- index build: `CredentialIndex(credentials)`, done once per wallet;
- match: `match(query, index)` against the prebuilt index (the wallet's steady state);
- match + index: `match(query, credentials)`, building the index in the call;
- baseline: iterate the 10,000 credential dicts and look up 5 top-level keys in each, i.e. the
  least any matcher has to touch; the ratio says how many baselines one match costs.
Goal: match <= 20 ms on the 2-core CI machine. No assertion here: figures are printed.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from conformance.protocol.dcql import CredentialIndex, WalletCredential, match, parse_query

IDENTITY = "https://credentials.example.com/identity_credential"
VCTS = [(IDENTITY, 0.5), ("https://example.com/education_credential", 0.25),
        ("https://example.com/residence_proof", 0.15), ("https://example.com/loyalty", 0.10)]
ISSUERS = [f"did:iota:0x{n:064x}" for n in range(1, 6)]
COUNTRIES = ["DE", "FR", "AT", "IT", "ES", "NL"]
NAMES = ["Erika", "Max", "Jean", "Marie", "Luca", "Sofia", "Jan", "Eva"]

QUERY = {
    "credentials": [{
        "id": "pid",
        "format": "dc+sd-jwt",
        "meta": {"vct_values": [IDENTITY]},
        "claims": [
            {"path": ["given_name"]},
            {"path": ["family_name"]},
            {"path": ["birthdate"]},
            {"path": ["address", "postal_code"]},
            {"path": ["nationalities", None], "values": ["DE", "FR"]},
        ],
    }]
}
BASELINE_KEYS = ("given_name", "family_name", "birthdate", "address", "nationalities")


def _vct(rng: random.Random) -> str:
    draw, total = rng.random(), 0.0
    for vct, share in VCTS:
        total += share
        if draw < total:
            return vct
    return VCTS[-1][0]


def _claims(rng: random.Random) -> dict[str, Any]:
    claims: dict[str, Any] = {
        "given_name": rng.choice(NAMES),
        "family_name": rng.choice(NAMES) + "son",
        "address": {"street_address": f"{rng.randrange(1, 200)} Main St", "locality": "Town",
                    "postal_code": f"{rng.randrange(10000, 99999)}"},
        "nationalities": rng.sample(COUNTRIES, rng.randint(1, 2)),
    }
    if rng.random() < 0.9:  # a tenth of the credentials lack a requested claim
        claims["birthdate"] = f"19{rng.randrange(40, 99)}-0{rng.randrange(1, 9)}-1{rng.randrange(0, 9)}"
    if rng.random() < 0.3:
        claims["degrees"] = [{"type": "BSc", "university": "U"}]
    return claims


def build_credentials(count: int, seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    return [
        {"format": "dc+sd-jwt", "vct": _vct(rng), "claims": _claims(rng), "issuer": rng.choice(ISSUERS),
         "cryptographic_holder_binding": rng.random() < 0.95}
        for _ in range(count)
    ]


def baseline(dicts: list[dict[str, Any]]) -> int:
    found = 0
    for credential in dicts:
        claims = credential["claims"]
        for key in BASELINE_KEYS:
            if key in claims:
                found += 1
    return found


def median_ms(run: Callable[[], object], runs: int) -> float:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        run()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--credentials", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)

    dicts = build_credentials(args.credentials, args.seed)
    credentials = [WalletCredential.from_json(d) for d in dicts]
    query = parse_query(QUERY)
    index = CredentialIndex(credentials)
    result = match(query, index)

    build = median_ms(lambda: CredentialIndex(credentials), args.runs)
    matched = median_ms(lambda: match(query, index), args.runs)
    unindexed = median_ms(lambda: match(query, credentials), args.runs)
    base = median_ms(lambda: baseline(dicts), args.runs)

    pid = query.credential("pid")
    candidates = len(index.candidates(pid.format, pid.meta_constraint))
    print(f"credentials: {len(credentials)}  candidates of the vct: {candidates}  claims in query: 5  "
          f"matches: {len(result.query('pid').matches)}  runs: {args.runs}  python: {sys.version.split()[0]}")
    print(f"index build (once per wallet): {build:8.2f} ms")
    print(f"match (prebuilt index):        {matched:8.2f} ms   goal <= 20 ms")
    print(f"match + index build:           {unindexed:8.2f} ms")
    print(f"baseline (iterate + 5 keys):   {base:8.2f} ms")
    print(f"ratio match / baseline:        {matched / base:8.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
