"""The check registry: registration rules and how outcomes are derived."""

from __future__ import annotations

import asyncio

import pytest

from conformance.harness.checks import REGISTRY, CheckContext, CheckOutcome, Registry
from conformance.protocol.errors import SdJwtError

from ._doubles import World, check_context, make_target


def test_duplicate_names_and_unknown_severities_are_refused() -> None:
    registry = Registry()

    @registry.check("x.one", description="d", spec="S")
    async def one(ctx: CheckContext) -> CheckOutcome:
        return CheckOutcome.passed("ok")

    with pytest.raises(ValueError, match="check 'x.one' is already registered"):
        registry.check("x.one", description="d", spec="S")(one)
    with pytest.raises(ValueError, match="severity 'fatal' is not one of required, recommended, informational"):
        registry.check("x.two", description="d", spec="S", severity="fatal")(one)
    with pytest.raises(KeyError, match="did you mean 'x.one'"):
        registry.get("x.onw")


def run(registry: Registry, name: str, artefacts: dict | None = None) -> CheckOutcome:
    ctx = check_context(make_target(World()), artefacts)
    return asyncio.run(registry.get(name).run(ctx))


def test_outcomes_skip_without_evidence_and_turn_errors_into_results() -> None:
    registry = Registry()

    @registry.check("x.needs", description="d", spec="S", needs=("credential",))
    async def needs(ctx: CheckContext) -> CheckOutcome:
        return CheckOutcome.passed("saw " + ctx.artefact("credential"))

    @registry.check("x.protocol", description="d", spec="S")
    async def protocol(ctx: CheckContext) -> CheckOutcome:
        raise SdJwtError("duplicate_digest", "digest X appears twice")

    @registry.check("x.crash", description="d", spec="S")
    async def crash(ctx: CheckContext) -> CheckOutcome:
        return {}["boom"]

    @registry.check("x.wrong", description="d", spec="S")
    async def wrong(ctx: CheckContext) -> CheckOutcome:
        return True  # type: ignore[return-value]

    skipped = run(registry, "x.needs")
    assert skipped.status == "skipped"
    assert skipped.message == "needs artefact 'credential', which fake.echo did not produce (artefacts: none)"
    assert run(registry, "x.needs", {"credential": "c"}) == CheckOutcome("passed", "saw c")
    assert run(registry, "x.protocol") == CheckOutcome("failed", "duplicate_digest: digest X appears twice")
    assert run(registry, "x.crash") == CheckOutcome("error", "check crashed: KeyError: 'boom'")
    assert run(registry, "x.wrong").status == "error"


def test_failure_messages_say_received_and_expected() -> None:
    outcome = CheckOutcome.failed("typ 'jwt'", "typ dc+sd-jwt", "issuer JWT")
    assert outcome == CheckOutcome("failed", "issuer JWT: Received: typ 'jwt' / Expected: typ dc+sd-jwt")
    long = CheckOutcome.failed("x" * 500, "y")
    assert len(long.message) < 200 and long.message.endswith("/ Expected: y")


def test_builtin_checks_document_themselves() -> None:
    expected = {"api.error_shape", "api.json_content_type", "sdjwt.issuer_signature", "sdjwt.disclosure_digests",
                "sdjwt.vc_claims", "sdjwt.status_claim", "kb.present", "kb.nonce", "kb.aud", "kb.sd_hash",
                "oid4vci.offer_shape", "oid4vci.issuer_metadata", "notarization.anchor_matches_jwt",
                "notarization.anchor_signature", "verifier.check_results_shape", "dcql.disclosed_only_requested"}
    assert expected <= set(REGISTRY.names())
    for item in REGISTRY:
        assert item.description and item.spec and item.severity in ("required", "recommended", "informational")
