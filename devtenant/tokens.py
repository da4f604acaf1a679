"""Signing and verifying RS256 JWTs with the tenant's keys (joserfc does the cryptography)."""

from __future__ import annotations

import base64
import json
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError

from devtenant.keys import TenantKeys


class TokenError(Exception):
    """A JWT that is malformed, unsigned, or not signed by one of this tenant's keys."""


def sign(keys: TenantKeys, claims: dict[str, Any]) -> str:
    """Sign claims with the current key, putting its kid in the header."""
    header = {"alg": "RS256", "typ": "JWT", "kid": keys.kid}
    return jwt.encode(header, claims, keys.signing, algorithms=["RS256"])


def unverified_header(token: str) -> dict[str, Any]:
    """Decode a JWT header without verifying anything (to pick the key by kid)."""
    try:
        segment = token.split(".")[0]
        padded = segment + "=" * (-len(segment) % 4)
        header = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (ValueError, UnicodeError) as exc:
        raise TokenError("not a JWT") from exc
    if not isinstance(header, dict):
        raise TokenError("not a JWT")
    return header


def verify_signature(keys: TenantKeys, token: str) -> dict[str, Any]:
    """Verify an RS256 signature by kid and return the claims; claims are checked by callers."""
    if not isinstance(token, str) or token.count(".") != 2:
        raise TokenError("not a compact JWS")
    header = unverified_header(token)
    if header.get("alg") != "RS256":
        raise TokenError("alg must be RS256")
    key = keys.by_kid(str(header.get("kid", "")))
    if key is None:
        raise TokenError("unknown kid")
    try:
        decoded = jwt.decode(token, key, algorithms=["RS256"])
    except (JoseError, ValueError, TypeError) as exc:
        raise TokenError("bad signature") from exc
    if not isinstance(decoded.claims, dict):
        raise TokenError("claims are not an object")
    return dict(decoded.claims)


def audiences(claims: dict[str, Any]) -> list[str]:
    """The aud claim as a list (it may be a string or an array)."""
    aud = claims.get("aud")
    if isinstance(aud, str):
        return [aud]
    if isinstance(aud, list):
        return [str(item) for item in aud]
    return []
