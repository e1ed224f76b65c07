"""A state machine over the holder API (seed 001): any order of register, login, create / delete
DID, receive, get / delete credential and present, checked against a model after every step.

Rules assert each answer the seed's tables give (201, 204, 401 without a token, 403 for another
user's DID or credential, 404 for a deleted one); invariants compare the server with the model:
a user's DID list is exactly their active DIDs, and their credential list holds every credential
they received and did not delete (whose DID is still active) and nothing deleted - soft delete
hides a credential from list and get (seed 001, "Delete"). A credential whose DID was deleted may
or may not be listed: the seed does not say.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    get_state_machine_test,
    initialize,
    invariant,
    multiple,
    precondition,
    rule,
)

from conformance.explore.properties.base import ExploreContext, Property, Skip
from conformance.explore.properties.claims import SCALARS, ClaimShape, claim_sets
from conformance.explore.properties.roundtrip import check_verdict
from conformance.explore.seed_api import Account, PropertyFailure, Reply, expect, fresh_password

NAMES = ("alice", "bob", "carol")
DID_METHODS = ("KEY", "JWK", "IOTA")
DEFAULT_CONFIG = "default"


@dataclass
class UserModel:
    uuid: str
    password: str = field(repr=False)
    account: Account | None = field(default=None, repr=False)
    dids: dict[str, str] = field(default_factory=dict, repr=False)       # active DID -> private key
    deleted_dids: dict[str, str] = field(default_factory=dict, repr=False)   # deleted DID -> its key
    credentials: dict[str, str] = field(default_factory=dict)            # credential id -> holder DID
    deleted: set[str] = field(default_factory=set)

    def snapshot(self) -> dict[str, Any]:
        return {"logged_in": self.account is not None, "dids": sorted(self.dids),
                "deleted_dids": sorted(self.deleted_dids), "credentials": sorted(self.credentials),
                "deleted_credentials": sorted(self.deleted)}


@dataclass(frozen=True)
class Offerable:
    config_id: str
    vct: str
    shape: ClaimShape
    first_claim: str


def _offerable(ctx: ExploreContext) -> Offerable | None:
    if "issuer" not in ctx.target.roles:
        return None
    config_id = ctx.target.config_ids.get(DEFAULT_CONFIG)
    if not config_id:
        raise Skip(f"the target names no `{DEFAULT_CONFIG}` credential configuration (config_ids.{DEFAULT_CONFIG})")
    metadata = expect(ctx.call(ctx.api.issuer_metadata), 200, "issuer metadata")
    config = (metadata.get("credential_configurations_supported") or {}).get(config_id) or {}
    shape = ClaimShape.from_metadata(config)
    names = shape.mandatory or shape.optional
    if "vct" not in config or not names:
        raise PropertyFailure(f"the issuer metadata describes no vct or claims for configuration {config_id!r}")
    return Offerable(config_id, config["vct"], shape, names[0])


def build(ctx: ExploreContext) -> Callable[[], None]:
    offerable = ctx.once("offerable", lambda: _offerable(ctx))
    can_present = "verifier" in ctx.target.roles
    api = ctx.api

    def run(fn: Callable[..., Awaitable[Reply]], *args: Any, **kwargs: Any) -> Reply:
        return ctx.call(fn, *args, **kwargs)

    class HolderMachine(RuleBasedStateMachine):
        users = Bundle("users")
        dids = Bundle("dids")
        deleted_dids = Bundle("deleted_dids")
        credentials = Bundle("credentials")
        deleted_credentials = Bundle("deleted_credentials")

        def __init__(self) -> None:
            super().__init__()
            ctx.start_example()
            self.model: dict[str, UserModel] = {}

        # --- accounts --------------------------------------------------------------------------

        @initialize(target=users)
        def first_user(self) -> str:
            """Every run starts with one logged-in user, so steps go to DIDs and credentials."""
            user = self.register(NAMES[0])
            self.login(user, True)
            return user

        @rule(target=users, name=st.sampled_from(NAMES[1:]))
        def register(self, name: str) -> str:
            password = fresh_password()
            uuid = expect(run(api.register, name, password), 201, "register")["uuid"]
            if uuid in self.model:
                raise PropertyFailure(f"register returned uuid {uuid}, which is already another user's")
            self.model[uuid] = UserModel(uuid, password)
            return uuid

        @rule(user=users, correct=st.booleans())
        def login(self, user: str, correct: bool) -> None:
            model = self.model[user]
            reply = run(api.login, user, model.password if correct else model.password + "x")
            if not correct:
                expect(reply, 401, "login with a wrong password")
                return
            body = expect(reply, 200, "login")
            if body.get("user", {}).get("uuid") != user:
                raise PropertyFailure(f"login as {user} answered for user {body.get('user')}")
            model.account = Account(user, body["access_token"])

        # --- DIDs ------------------------------------------------------------------------------

        @rule(target=dids, user=users, method=st.sampled_from(DID_METHODS))
        def create_did(self, user: str, method: str) -> Any:
            model = self.model[user]
            if model.account is None:
                expect(run(api.create_did, Account(user, ""), method), 401, "create DID without a token")
                return multiple()
            body = expect(run(api.create_did, model.account, method), 201, f"create {method} DID")
            model.dids[body["did"]] = body["private_key"]
            return (user, body["did"])

        @rule(target=deleted_dids, did=consumes(dids))
        def delete_did(self, did: tuple[str, str]) -> tuple[str, str]:
            user, value = did
            model = self.model[user]
            expect(run(api.delete_did, model.account, value), 204, "delete DID")
            model.deleted_dids[value] = model.dids.pop(value)
            return did

        @rule(did=dids, other=users)
        def delete_someone_elses_did(self, did: tuple[str, str], other: str) -> None:
            account = self.model[other].account
            if other != did[0] and account is not None:
                expect(run(api.delete_did, account, did[1]), 403, "delete another user's DID")

        @rule(did=deleted_dids)
        def delete_did_again(self, did: tuple[str, str]) -> None:
            expect(run(api.delete_did, self.model[did[0]].account, did[1]), 404, "delete a deleted DID")

        # --- credentials -----------------------------------------------------------------------

        @precondition(lambda self: offerable is not None)
        @rule(target=credentials, did=dids, data=st.data())
        def receive(self, did: tuple[str, str], data: st.DataObject) -> tuple[str, str]:
            user, value = did
            model = self.model[user]
            offer = self._offer(data)
            body = expect(run(api.receive, model.account, offer["deep_link"], value, model.dids[value]), 201, "receive")
            if body.get("credential_id") in model.credentials:
                raise PropertyFailure(f"receive returned credential id {body.get('credential_id')} twice")
            model.credentials[body["credential_id"]] = value
            return (user, body["credential_id"])

        @precondition(lambda self: offerable is not None)
        @rule(did=deleted_dids, data=st.data())
        def receive_with_deleted_did(self, did: tuple[str, str], data: st.DataObject) -> None:
            model = self.model[did[0]]
            offer = self._offer(data)
            expect(run(api.receive, model.account, offer["deep_link"], did[1], model.deleted_dids[did[1]]), 404,
                   "receive with a deleted DID")

        @rule(credential=credentials)
        def get_credential(self, credential: tuple[str, str]) -> None:
            user, cid = credential
            body = expect(run(api.get_credential, self.model[user].account, cid), 200, "get credential")
            if body.get("id") != cid:
                raise PropertyFailure(f"GET /v1/vc/{cid} answered the record of {body.get('id')}")

        @rule(credential=credentials, other=users)
        def get_someone_elses_credential(self, credential: tuple[str, str], other: str) -> None:
            account = self.model[other].account
            if other != credential[0] and account is not None:
                expect(run(api.get_credential, account, credential[1]), 403, "get another user's credential")
                expect(run(api.delete_credential, account, credential[1]), 403, "delete another user's credential")

        @rule(target=deleted_credentials, credential=consumes(credentials))
        def delete_credential(self, credential: tuple[str, str]) -> tuple[str, str]:
            user, cid = credential
            expect(run(api.delete_credential, self.model[user].account, cid), 204, "delete credential")
            self.model[user].deleted.add(cid)
            del self.model[user].credentials[cid]
            return credential

        @rule(credential=deleted_credentials)
        def touch_deleted_credential(self, credential: tuple[str, str]) -> None:
            user, cid = credential
            expect(run(api.get_credential, self.model[user].account, cid), 404, "get a deleted credential")
            expect(run(api.delete_credential, self.model[user].account, cid), 404, "delete a deleted credential")

        @precondition(lambda self: can_present and offerable is not None)
        @rule(credential=credentials)
        def present(self, credential: tuple[str, str]) -> None:
            user, cid = credential
            model = self.model[user]
            did = model.credentials[cid]
            ctx.call(self._present, model, cid, did)

        # --- invariants ------------------------------------------------------------------------

        @invariant()
        def lists_match_the_model(self) -> None:
            for model in self.model.values():
                if model.account is not None:
                    self._check_dids(model)
                    self._check_credentials(model)

        def _check_dids(self, model: UserModel) -> None:
            listed = {d.get("did") for d in expect(run(api.list_dids, model.account), 200, "list DIDs").get("dids", [])}
            if listed != set(model.dids):
                ctx.note("model", {uuid: m.snapshot() for uuid, m in self.model.items()})
                raise PropertyFailure(f"GET /v1/did for {model.uuid} lists {sorted(listed)}; its active DIDs are "
                                      f"{sorted(model.dids)} (deleted: {sorted(model.deleted_dids)})")

        def _check_credentials(self, model: UserModel) -> None:
            body = expect(run(api.list_credentials, model.account), 200, "list credentials")
            listed = {c.get("id") for c in body.get("credentials", [])}
            required = {cid for cid, did in model.credentials.items() if did in model.dids}
            if not required <= listed <= set(model.credentials):
                ctx.note("model", {uuid: m.snapshot() for uuid, m in self.model.items()})
                raise PropertyFailure(
                    f"GET /v1/vc for {model.uuid} lists {sorted(listed)}; expected every received, undeleted "
                    f"credential {sorted(required)} and nothing deleted {sorted(model.deleted & listed)} "
                    "or unknown (seed 001: soft delete hides a credential from list and get)")

        # --- helpers ---------------------------------------------------------------------------

        def _offer(self, data: st.DataObject) -> dict[str, Any]:
            assert offerable is not None
            claims = data.draw(claim_sets(offerable.shape, values=SCALARS), label="claims")
            return expect(run(api.create_offer, offerable.config_id, claims, notarize_on_iota=False), 201,
                          "issuer create offer")

        async def _present(self, model: UserModel, cid: str, did: str) -> None:
            assert offerable is not None and model.account is not None
            query = {"credentials": [{"id": "q", "format": "dc+sd-jwt", "meta": {"vct_values": [offerable.vct]},
                                      "claims": [{"path": [offerable.first_claim]}]}]}
            session = await api.verifier_request(query)
            details = expect(await api.request_details(model.account, session.authorization_request), 200,
                             "request-details")
            offered = {m.get("credential_id") for m in details.get("matching_credentials", [])}
            if did not in model.dids:
                if cid in offered:
                    raise PropertyFailure(f"request-details offers credential {cid}, whose DID {did} was deleted")
                return
            if cid not in offered:
                raise PropertyFailure(f"request-details does not offer credential {cid}, which matches the query")
            expect(await api.present(model.account, session.authorization_request, did, model.dids[did], [
                {"credential_id": cid, "query_id": "q", "disclosed_claims": [offerable.first_claim]}]),
                200, "presentation")
            check_verdict(expect(await api.verifier_result(session.session_id), 200, "verifier result"))

    return get_state_machine_test(HolderMachine, settings=ctx.settings)


PROPERTIES = (
    Property("holder.state_machine", "Holder API in any order of register, login, DIDs, receive, delete and "
             "present: lists match the model, deleted credentials stay hidden, users are isolated",
             ("seed 001 (holder)", "OID4VCI 1.0 §8", "OID4VP 1.0 §8.2"), ("holder",), build),
)
