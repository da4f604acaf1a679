"""Which custom claims an Action may add to the tokens, by Auth0's rules ("Create Custom Claims"):
names in Auth0's own namespaces (auth0.com, webtask.io, webtask.run) and the claims Auth0 reserves
are never added, nor, on an access token for an Auth0 API (here always the Management API), a
claim without a namespace. A refused claim does not fail the login: it is left out, as at Auth0."""

from __future__ import annotations

import re

AUTH0_NAMESPACES = re.compile(
    r"(?:^|[/.@])(?:auth0\.com|webtask\.io|webtask\.run)(?:[/:]|$)", re.IGNORECASE
)
# The claims Auth0's page lists as restricted, and the OpenID Connect standard claims, which
# custom claims cannot customise or modify either.
RESERVED = frozenset(
    [
        "acr",
        "act",
        "active",
        "amr",
        "at_hash",
        "ath",
        "attest",
        "aud",
        "auth_time",
        "authorization_details",
        "azp",
        "c_hash",
        "client_id",
        "cnf",
        "cty",
        "dest",
        "entitlements",
        "events",
        "exp",
        "groups",
        "gty",
        "htm",
        "htu",
        "iat",
        "internalService",
        "iss",
        "jcard",
        "jku",
        "jti",
        "jwe",
        "jwk",
        "kid",
        "may_act",
        "mky",
        "nbf",
        "nonce",
        "object_id",
        "org_id",
        "org_name",
        "orig",
        "origid",
        "permissions",
        "roles",
        "rph",
        "s_hash",
        "sid",
        "sip_callid",
        "sip_cseq_num",
        "sip_date",
        "sip_from_tag",
        "sip_via_branch",
        "sub",
        "sub_jwk",
        "toe",
        "txn",
        "typ",
        "uuid",
        "vot",
        "vtm",
        "x5t#S256",
        "name",
        "given_name",
        "family_name",
        "middle_name",
        "nickname",
        "preferred_username",
        "profile",
        "picture",
        "website",
        "email",
        "email_verified",
        "gender",
        "birthdate",
        "zoneinfo",
        "locale",
        "phone_number",
        "phone_number_verified",
        "address",
        "updated_at",
        "scope",
    ]
)


def namespaced(name: str) -> bool:
    """Whether a claim name is a URL (Auth0's "public, namespaced" claims)."""
    return name.startswith(("http://", "https://"))


def refusal(name: str, kind: str) -> str | None:
    """Why Auth0 would leave this claim out of a token ("id" or "access"), or None."""
    if not name:
        return "a claim needs a name"
    if AUTH0_NAMESPACES.search(name):
        return "auth0.com, webtask.io and webtask.run are Auth0's namespaces"
    if namespaced(name):
        return None
    if kind == "access":
        return "an access token for an Auth0 API takes namespaced claims only"
    if name in RESERVED:
        return "Auth0 reserves this claim"
    return None
