"""The at-login door's two tokens, HS256 with the secret shared with the post-login Action: the
one the Action sends with the person (read here: who is signing in, and which accounts share their
verified email), and the answer this page sends back to Auth0's `/continue` (made here).

Auth0's `api.redirect.encodeToken` puts `iss` (the tenant's hostname, e.g.
`example.eu.auth0.com`), `sub` (the user signing in), `iat`, `exp` and the Action's payload at
the top level; `api.redirect.validateToken` checks the answer's
signature, `exp`, and that its `state` is the suspended login's.
"""

from __future__ import annotations

import time
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import OctKey

from ..identities import split_user_id

ALGORITHMS = ["HS256"]  # the only one Auth0's encodeToken and validateToken use
ANSWER_LIFETIME = 300  # seconds Auth0 has to take the answer
LEEWAY = 30  # clocks of Auth0 and this server may differ this much


class DoorRefused(Exception):
    """The token does not open the door: forged, expired, replayed, or not Auth0's shape."""


@dataclass(frozen=True)
class AccountRef:
    """An account as the Action names it: the full user id and its primary identity."""

    user_id: str
    provider: str
    connection: str
    created_at: str | None = None
    email: str | None = None

    def as_claim(self) -> dict[str, str]:
        return {"user_id": self.user_id, "provider": self.provider, "connection": self.connection}


@dataclass(frozen=True)
class Door:
    """A suspended login at Auth0, waiting for this page's answer."""

    state: str  # Auth0's transaction, to resume at /continue
    sub: str  # the account signing in
    current: AccountRef
    candidates: tuple[AccountRef, ...]
    expires_at: int  # the Action's token's `exp`


def read(
    token: str, state: str, *, secret: str, issuers: Collection[str], now: float | None = None
) -> Door:
    """Return the door the Action's `token` opens, or raise DoorRefused. `issuers`: the tenant's
    hostnames (its sign-in domain, and its canonical one: which of the two Auth0 puts there
    with a custom domain is not documented)."""
    now = time.time() if now is None else now
    if not state or len(state) > 2000:
        raise DoorRefused("no state")
    try:
        decoded = jwt.decode(token, OctKey.import_key(secret.encode()), algorithms=ALGORITHMS)
        jwt.JWTClaimsRegistry(
            now=int(now),
            leeway=LEEWAY,
            iss={"essential": True, "values": sorted(issuers)},
            sub={"essential": True},
            exp={"essential": True},
        ).validate(decoded.claims)
    except (JoseError, ValueError) as exc:
        raise DoorRefused(type(exc).__name__) from exc
    claims = decoded.claims
    current = _account(claims.get("current_identity"))
    raw = claims.get("candidate_identities")
    if current is None or current.user_id != claims["sub"] or not isinstance(raw, list) or not raw:
        raise DoorRefused("not the documented payload")
    candidates = tuple(c for c in (_account(item) for item in raw[:10]) if c is not None)
    if len(candidates) != len(raw[:10]) or any(c.user_id == current.user_id for c in candidates):
        raise DoorRefused("not the documented payload")
    return Door(state, str(claims["sub"]), current, candidates, int(claims["exp"]))


def answer(door: Door, *, secret: str, issuer: str, action: str, **fields: Any) -> str:
    """Sign the page's answer for Auth0's `/continue` (`issuer`: this page's own URL)."""
    now = int(time.time())
    claims = {
        "iss": issuer,
        "sub": door.sub,
        "iat": now,
        "exp": now + ANSWER_LIFETIME,
        "state": door.state,
        "action": action,
        **fields,
    }
    return jwt.encode({"alg": "HS256", "typ": "JWT"}, claims, OctKey.import_key(secret.encode()))


def _account(value: object) -> AccountRef | None:
    """An account as the Action names it, or None when it is not that shape."""
    if not isinstance(value, dict):
        return None
    user_id, provider, connection = (value.get(k) for k in ("user_id", "provider", "connection"))
    if not all(isinstance(v, str) and v for v in (user_id, provider, connection)):
        return None
    try:
        prefix, _rest = split_user_id(user_id)
    except ValueError:
        return None
    if prefix != provider:
        return None
    created, email = value.get("created_at"), value.get("email")
    return AccountRef(
        user_id,
        provider,
        connection,
        created if isinstance(created, str) else None,
        email if isinstance(email, str) else None,
    )
