"""`conformance dcql QUERY.json CREDENTIALS.json`: evaluate a DCQL query against a wallet."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping
from typing import Any

from conformance.cli import EXIT_FAILED, EXIT_OK, UsageError
from conformance.protocol.dcql import CredentialIndex, WalletCredential, match, parse_query
from conformance.protocol.errors import DcqlError

NAME = "dcql"
HELP = "match a DCQL query (OID4VP 1.0 §6) against wallet credentials"
DESCRIPTION = """\
Evaluate a DCQL query against a list of wallet credentials and print the result as JSON.

QUERY.json holds the DCQL query, bare or wrapped as {"dcql_query": {...}} (the TCS verifier's
request form). CREDENTIALS.json holds an array of credentials (or {"credentials": [...]}), each
    {"format": "dc+sd-jwt", "vct": "...", "claims": {...}, "issuer": "did:..." (optional),
     "cryptographic_holder_binding": true|false (default true), "aki": "<base64url>" (optional),
     "doctype": "..." (mso_mdoc), "authority_ids": {"etsi_tl": ["..."], ...} (optional)}
Use - for one of the two files to read it from standard input.

Output: {"can_be_satisfied", "matches": {query id: [credential indices]}, "queries": {query id:
{"multiple", "candidates": [{"index", "claim_set", "claims": [concrete paths to disclose]}]}},
"credential_sets" (when the query has them), "unsatisfied", "notes"}. Notes list what the query
does beyond OID4VP 1.0 (e.g. trusted_authorities of type "did").

Exit status: 0 the query can be satisfied, 1 it cannot, 2 unreadable input or invalid query.
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("query", metavar="QUERY.json", help="the DCQL query ('-' for stdin)")
    parser.add_argument("credentials", metavar="CREDENTIALS.json", help="the wallet credentials ('-' for stdin)")
    parser.add_argument("--strict", action="store_true",
                        help="reject the deviations from OID4VP 1.0 that are otherwise accepted with a note")


def run(args: argparse.Namespace) -> int:
    if args.query == "-" and args.credentials == "-":
        raise UsageError("only one of QUERY.json and CREDENTIALS.json can be read from stdin ('-')")
    raw_query = _unwrap_query(_read_json(args.query))
    raw_credentials = _credential_list(_read_json(args.credentials), args.credentials)
    try:
        query = parse_query(raw_query, strict=args.strict)
    except DcqlError as exc:
        raise UsageError(f"{_name(args.query)}: invalid DCQL query: {_describe(exc)}") from None
    try:
        wallet = CredentialIndex(WalletCredential.from_json(c, f"[{i}]") for i, c in enumerate(raw_credentials))
    except DcqlError as exc:
        raise UsageError(f"{_name(args.credentials)}: invalid credential: {_describe(exc)}") from None
    result = match(query, wallet)
    json.dump(result.as_dict(), sys.stdout, indent=2)
    sys.stdout.write("\n")
    return EXIT_OK if result.can_be_satisfied else EXIT_FAILED


def _describe(exc: DcqlError) -> str:
    # Messages usually name the field already; say it first only when they do not.
    where = f"{exc.field}: " if exc.field and exc.field not in exc.message else ""
    return f"{where}{exc.message} ({exc.reason})"


def _name(path: str) -> str:
    return "stdin" if path == "-" else path


def _read_json(path: str) -> Any:
    name = _name(path)
    try:
        if path == "-":
            return json.load(sys.stdin)
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except OSError as exc:
        raise UsageError(f"cannot read {name}: {exc.strerror or exc}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise UsageError(f"{name} is not valid JSON: {exc}") from None


def _unwrap_query(obj: Any) -> Any:
    """Accept the request form {"dcql_query": {...}} as well as the bare query."""
    if isinstance(obj, Mapping) and "dcql_query" in obj and "credentials" not in obj:
        return obj["dcql_query"]
    return obj


def _credential_list(obj: Any, path: str) -> list[Any]:
    if isinstance(obj, Mapping) and isinstance(obj.get("credentials"), list):
        return obj["credentials"]
    if isinstance(obj, list):
        return obj
    name = _name(path)
    raise UsageError(f"{name} must hold a JSON array of credentials or {{\"credentials\": [...]}}")
