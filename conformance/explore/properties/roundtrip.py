"""Random claims through issue -> present -> verify: the verifier sees exactly what was disclosed.

Each example offers a credential of the target's nested-claims configuration (`config_ids.resident`)
with random claims, has a wallet receive it, asks the verifier (DCQL) for a random selection of its
claims - whole objects, single members at any depth, whole arrays - and presents exactly that
selection. The
verifier must complete with every check passing and report as revealed claims exactly the
selection, each claim whole inside its parents, undisclosed array elements removed
(RFC 9901 §4.2.6, §7.3; OID4VP 1.0 §6.4, §7.1).

Two wallets play the holder: the target's holder service (its API does receive and present), and
the harness's own protocol-level wallet against the issuer's and verifier's wire endpoints.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from hypothesis import given
from hypothesis import strategies as st

from conformance.explore.properties.base import ExploreContext, Property, Skip
from conformance.explore.properties.claims import ClaimShape, claim_sets, dotted, member_paths, reveal
from conformance.explore.seed_api import Account, PropertyFailure, SeedApi, expect
from conformance.protocol.dcql.paths import ConcretePath

CONFIG_NAME = "resident"
QUERY_ID = "selection"
DID_METHODS = ("KEY", "JWK", "IOTA")
RESPONSE_MODES = ("direct_post", "direct_post.jwt")


@dataclass(frozen=True)
class Configuration:
    id: str
    vct: str
    shape: ClaimShape


@dataclass(frozen=True)
class DisclosureCase:
    claims: dict[str, Any]
    selection: tuple[ConcretePath, ...]


@st.composite
def disclosure_cases(draw: st.DrawFn, shape: ClaimShape) -> DisclosureCase:
    claims = draw(claim_sets(shape))
    paths = member_paths(claims)
    selection = draw(st.lists(st.sampled_from(paths), min_size=1, max_size=4, unique=True))
    return DisclosureCase(claims, tuple(selection))


async def configuration(api: SeedApi, config_ids: Mapping[str, str]) -> Configuration:
    """The nested-claims configuration and its claim descriptions, from the issuer metadata."""
    config_id = config_ids.get(CONFIG_NAME)
    if not config_id:
        raise Skip(f"the target names no `{CONFIG_NAME}` credential configuration (config_ids.{CONFIG_NAME}: "
                   "one whose claims include objects and arrays)")
    metadata = expect(await api.issuer_metadata(), 200, "issuer metadata")
    config = (metadata.get("credential_configurations_supported") or {}).get(config_id)
    if not isinstance(config, Mapping) or "vct" not in config:
        raise PropertyFailure(f"the issuer metadata has no dc+sd-jwt configuration {config_id!r} with a vct")
    return Configuration(config_id, config["vct"], ClaimShape.from_metadata(config))


def selection_query(vct: str, selection: tuple[ConcretePath, ...]) -> dict[str, Any]:
    return {"credentials": [{"id": QUERY_ID, "format": "dc+sd-jwt", "meta": {"vct_values": [vct]},
                             "claims": [{"path": list(path)} for path in selection]}]}


class Wallet(Protocol):
    """A holder under test: receives an offer, presents a selection of a received credential.
    `did_methods`: the holder binding methods worth varying."""
    did_methods: tuple[str, ...]

    async def receive(self, offer: Mapping[str, Any], did_method: str) -> Any: ...
    async def present(self, credential: Any, request: str, selection: tuple[ConcretePath, ...]) -> None: ...
    async def discard(self, credential: Any) -> None: ...


@dataclass
class HolderService:
    """The target's holder API: one account, a DID per method, made on first use."""
    api: SeedApi
    cache: dict[str, Any]
    did_methods: tuple[str, ...] = DID_METHODS

    async def account(self) -> Account:
        if "account" not in self.cache:
            self.cache["account"] = await self.api.account("conformance-explore")
        return self.cache["account"]  # type: ignore[no-any-return]

    async def did(self, method: str) -> tuple[str, str]:
        key = f"did:{method}"
        if key not in self.cache:
            body = expect(await self.api.create_did(await self.account(), method), 201, f"holder create {method} DID")
            self.cache[key] = (body["did"], body["private_key"])
        return self.cache[key]  # type: ignore[no-any-return]

    async def receive(self, offer: Mapping[str, Any], did_method: str) -> Any:
        did, key = await self.did(did_method)
        body = expect(await self.api.receive(await self.account(), offer["deep_link"], did, key), 201, "holder receive")
        return (body["credential_id"], did, key)

    async def present(self, credential: Any, request: str, selection: tuple[ConcretePath, ...]) -> None:
        credential_id, did, key = credential
        user = await self.account()
        details = expect(await self.api.request_details(user, request), 200, "holder request-details")
        offered = [m.get("credential_id") for m in details.get("matching_credentials", [])
                   if m.get("query_id") == QUERY_ID]
        if credential_id not in offered:
            raise PropertyFailure(f"holder request-details does not offer credential {credential_id}, which "
                                  f"satisfies the query (matching: {offered}) (OID4VP 1.0 §6.4)")
        expect(await self.api.present(user, request, did, key, [{
            "credential_id": credential_id, "query_id": QUERY_ID,
            "disclosed_claims": [dotted(path) for path in selection]}]), 200, "holder presentation")

    async def discard(self, credential: Any) -> None:
        # Keeps the account's wallet small, so request-details does not slow down example by example.
        expect(await self.api.delete_credential(await self.account(), credential[0]), 204, "holder delete credential")


@dataclass
class HarnessHolder:
    """conformance.wallet.HarnessWallet over the issuer's and verifier's wire endpoints (its holder
    key is bound as a JWK, so there is no DID method to vary)."""
    api: SeedApi
    wallet: Any
    did_methods: tuple[str, ...] = ("jwk",)

    async def receive(self, offer: Mapping[str, Any], did_method: str) -> Any:
        outcome = await self.wallet.receive(self.api.send, offer["deep_link"])
        if not outcome.succeeded:
            raise PropertyFailure(f"harness wallet receive stopped at {outcome.stage}: HTTP {outcome.status} "
                                  f"{outcome.error or outcome.body}")
        return self.wallet.held[-1]

    async def present(self, credential: Any, request: str, selection: tuple[ConcretePath, ...]) -> None:
        outcome = await self.wallet.present(self.api.send, request, credential=credential,
                                            disclose={QUERY_ID: [list(path) for path in selection]})
        if not outcome.succeeded:
            raise PropertyFailure(f"harness wallet presentation stopped at {outcome.stage}: HTTP {outcome.status} "
                                  f"{outcome.error or outcome.body}")

    async def discard(self, credential: Any) -> None:
        self.wallet.held.remove(credential)


async def roundtrip(ctx: ExploreContext, wallet: Wallet, config: Configuration, case: DisclosureCase,
                    did_method: str, response_mode: str) -> None:
    api = ctx.api
    ctx.note("claims", case.claims)
    ctx.note("disclosed", [dotted(path) for path in case.selection])
    ctx.note("holder_binding", did_method)
    ctx.note("response_mode", response_mode)
    offer = expect(await api.create_offer(config.id, case.claims, notarize_on_iota=False), 201, "issuer create offer")
    credential = await wallet.receive(offer, did_method)
    session = await api.verifier_request(selection_query(config.vct, case.selection), response_mode=response_mode)
    await wallet.present(credential, session.authorization_request, case.selection)
    await wallet.discard(credential)
    result = expect(await api.verifier_result(session.session_id), 200, "verifier result")
    check_verdict(result)
    revealed = (result.get("presentation_metadata") or {}).get("claims")
    expected = reveal(case.claims, case.selection)
    ctx.note("expected", expected)
    ctx.note("revealed", revealed)
    if revealed != expected:
        raise PropertyFailure(f"the verifier reveals {revealed!r}; disclosing exactly "
                              f"{[dotted(p) for p in case.selection]} reveals {expected!r} (RFC 9901 §7.3)")


def check_verdict(result: Mapping[str, Any]) -> None:
    failed = [c for c in result.get("check_results") or [] if c.get("status") != "success"]
    if result.get("status") != "completed" or failed:
        raise PropertyFailure(f"the verifier did not accept the presentation: status {result.get('status')!r}, "
                              f"failed checks {failed}, error {result.get('error')}")


def _builder(make_wallet: Any) -> Any:
    def build(ctx: ExploreContext) -> Any:
        config = ctx.once("configuration", lambda: ctx.call(configuration, ctx.api, ctx.target.config_ids))
        wallet = ctx.once("wallet", lambda: make_wallet(ctx))

        @given(case=disclosure_cases(config.shape), did_method=st.sampled_from(wallet.did_methods),
               response_mode=st.sampled_from(RESPONSE_MODES))
        def disclosure_roundtrip(case: DisclosureCase, did_method: str, response_mode: str) -> None:
            ctx.start_example()
            ctx.call(roundtrip, ctx, wallet, config, case, did_method, response_mode)

        return ctx.settings(disclosure_roundtrip)
    return build


def _harness_wallet(ctx: ExploreContext) -> HarnessHolder:
    try:
        from conformance.wallet import HarnessWallet
    except ImportError as exc:  # the harness wallet is optional for this property
        raise Skip(f"the harness wallet is not available: {exc}") from None
    ledger = ctx.target.roles.get("ledger")
    wallet = HarnessWallet(ctx.rng, ledger_url=ledger.base_url if ledger else None)
    return HarnessHolder(ctx.api, wallet)


SPEC = ("RFC 9901 §4.2.6", "RFC 9901 §7.3", "OID4VP 1.0 §6.4", "OID4VP 1.0 §7.1")
PROPERTIES = (
    Property("disclosure.roundtrip_holder", "Random claims and disclosures through issuer, holder service "
             "and verifier: the verifier reveals exactly the disclosed claims", SPEC,
             ("issuer", "holder", "verifier"), _builder(lambda ctx: HolderService(ctx.api, ctx.cache))),
    Property("disclosure.roundtrip_wallet", "Random claims and disclosures through issuer and verifier with "
             "the harness wallet: the verifier reveals exactly the disclosed claims", SPEC,
             ("issuer", "verifier"), _builder(_harness_wallet)),
)
