"""The OIDC discovery document and the JWKS it points to."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from devtenant.scopes import OIDC_SCOPES
from devtenant.state import tenant

bp = Blueprint("discovery", __name__)


@bp.get("/.well-known/openid-configuration")
def discovery() -> Response:
    """The OIDC discovery document."""
    iss = tenant().issuer()
    return jsonify(
        {
            "issuer": iss,
            "authorization_endpoint": f"{iss}authorize",
            "token_endpoint": f"{iss}oauth/token",
            "userinfo_endpoint": f"{iss}userinfo",
            "jwks_uri": f"{iss}.well-known/jwks.json",
            "end_session_endpoint": f"{iss}oidc/logout",
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": ["authorization_code", "client_credentials"],
            "subject_types_supported": ["public"],
            "code_challenge_methods_supported": ["S256"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": list(OIDC_SCOPES),
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "claims_supported": [
                "aud",
                "auth_time",
                "email",
                "email_verified",
                "exp",
                "family_name",
                "given_name",
                "iat",
                "iss",
                "name",
                "nickname",
                "picture",
                "sub",
            ],
            "request_uri_parameter_supported": False,
        }
    )


@bp.get("/.well-known/jwks.json")
def jwks() -> Response:
    """The public keys: the signing key and a retired one."""
    return jsonify(tenant().keys.jwks())
