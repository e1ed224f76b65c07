"""Byte-level edits of signed tokens, shared by the receive and present faults."""

from __future__ import annotations

from conformance.protocol.jose import b64u_decode, b64u_encode


def flip_signature(token: str) -> str:
    """The compact JWS with one bit of its signature flipped: well formed, never valid."""
    signing_input, signature = token.rsplit(".", 1)
    raw = bytearray(b64u_decode(signature))
    raw[0] ^= 0x01
    return f"{signing_input}.{b64u_encode(bytes(raw))}"
