"""Parse request bodies at the edge: typed getters whose errors name the field and the rule."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from starlette.requests import Request

from reference.common.errors import ApiError

_MISSING = object()


def bad(field: str, why: str, code: str = "invalid_request") -> ApiError:
    return ApiError(400, code, f"{field}: {why}", field)


async def json_object(request: Request) -> Body:
    raw = await request.body()
    try:
        data = json.loads(raw) if raw else None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ApiError(400, "invalid_json", f"request body is not valid JSON: {exc.msg if hasattr(exc, 'msg') else exc}") from None
    if not isinstance(data, dict):
        raise ApiError(400, "invalid_request", "request body must be a JSON object")
    return Body(data)


class Body:
    """A JSON object with typed, field-naming accessors. `prefix` builds dotted field names."""

    def __init__(self, data: Mapping[str, Any], prefix: str = "") -> None:
        self.data = data
        self.prefix = prefix

    def _name(self, key: str) -> str:
        return f"{self.prefix}{key}"

    def _get(self, key: str, required: bool) -> Any:
        value = self.data.get(key, _MISSING)
        if value is _MISSING or value is None:
            if required:
                raise bad(self._name(key), "is required")
            return None
        return value

    def has(self, key: str) -> bool:
        return self.data.get(key) is not None

    def str(self, key: str, *, required: bool = False, max_len: int | None = None,
            choices: Sequence[str] | None = None) -> str | None:
        value = self._get(key, required)
        if value is None:
            return None
        if not isinstance(value, str) or (required and not value):
            raise bad(self._name(key), "must be a non-empty string")
        if max_len is not None and len(value) > max_len:
            raise bad(self._name(key), f"must be at most {max_len} characters")
        if choices is not None and value not in choices:
            raise bad(self._name(key), f"must be one of {', '.join(choices)}; got {value!r}")
        return value

    def secret(self, key: str, *, required: bool = False) -> str | None:
        """Like str, but an error never echoes the value (private keys, passwords)."""
        value = self._get(key, required)
        if value is not None and (not isinstance(value, str) or not value):
            raise bad(self._name(key), "must be a non-empty string")
        return value

    def int(self, key: str, *, required: bool = False, minimum: int | None = None,
            maximum: int | None = None) -> int | None:
        value = self._get(key, required)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float) or int(value) != value:
            raise bad(self._name(key), "must be an integer")
        if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
            raise bad(self._name(key), f"must be between {minimum} and {maximum}")
        return int(value)

    def bool(self, key: str, *, required: bool = False) -> bool | None:
        value = self._get(key, required)
        if value is not None and not isinstance(value, bool):
            raise bad(self._name(key), "must be a boolean")
        return value

    def obj(self, key: str, *, required: bool = False) -> Body | None:
        value = self._get(key, required)
        if value is None:
            return None
        if not isinstance(value, dict):
            raise bad(self._name(key), "must be a JSON object")
        return Body(value, f"{self._name(key)}.")

    def list(self, key: str, *, required: bool = False, non_empty: bool = False) -> list[Any] | None:
        value = self._get(key, required)
        if value is None:
            return None
        if not isinstance(value, list) or (non_empty and not value):
            raise bad(self._name(key), "must be a non-empty array" if non_empty else "must be an array")
        return value


def parse_uuid(value: str, field: str) -> str:
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise bad(field, "is not a valid UUID", "invalid_id") from None
