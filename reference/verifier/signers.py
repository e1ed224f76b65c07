"""Request Object signing keys kept in memory for sessions that offer `request_uri_method=post`.

OID4VP 1.0 §5.10: a wallet may POST to the request_uri with a `wallet_nonce`, which the Verifier
MUST put in the signed Request Object it answers with. That signature can only be made when the
request is fetched, so the verifier's key (`verifier_private_key`, seed Step 1) must outlive the
create call. It does so only for sessions whose creator asked for `request_uri_method: post`, only
in this process's memory (never in the store, a log or an answer), and only until the session is
answered or expires. A restarted verifier has lost the keys: a POST with a wallet_nonce is then
refused and the wallet must be given a new request.
"""

from __future__ import annotations

from collections.abc import Callable

from conformance.protocol.jose import PrivateKey


class RequestSigners:
    """session id -> (signing key, the session's expiry), purged lazily on every use."""

    def __init__(self, now: Callable[[], float]) -> None:
        self._now = now
        self._keys: dict[str, tuple[PrivateKey, float]] = {}

    def __repr__(self) -> str:  # never the keys
        return f"RequestSigners({len(self._keys)} session(s))"

    def __len__(self) -> int:
        self._purge()
        return len(self._keys)

    def keep(self, session_id: str, key: PrivateKey, until: float) -> None:
        self._purge()
        self._keys[session_id] = (key, until)

    def get(self, session_id: str) -> PrivateKey | None:
        self._purge()
        entry = self._keys.get(session_id)
        return entry[0] if entry else None

    def drop(self, session_id: str) -> None:
        self._keys.pop(session_id, None)

    def _purge(self) -> None:
        now = self._now()
        for session_id in [s for s, (_, until) in self._keys.items() if until <= now]:
            del self._keys[session_id]
