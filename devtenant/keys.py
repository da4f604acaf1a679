"""RSA signing keys for the development tenant, generated in memory at start-up."""

from __future__ import annotations

import secrets
from typing import Any

from joserfc.jwk import KeySet, RSAKey


class TenantKeys:
    """The current RS256 signing key plus one retired key that is still published."""

    def __init__(self) -> None:
        """Generate both keys; the retired one exists so clients must select keys by kid."""
        self.signing = _generate()
        self.retired = _generate()
        self.keyset = KeySet([self.signing, self.retired])

    @property
    def kid(self) -> str:
        """The kid of the key that signs new tokens."""
        return str(self.signing.kid)

    def jwks(self) -> dict[str, Any]:
        """The public JWKS document (no private parts)."""
        return {"keys": [key.as_dict(private=False) for key in (self.signing, self.retired)]}

    def by_kid(self, kid: str) -> RSAKey | None:
        """The key with this kid, or None."""
        for key in (self.signing, self.retired):
            if key.kid == kid:
                return key
        return None


def _generate() -> RSAKey:
    """A fresh 2048-bit RSA key with a random kid."""
    params = {"kid": secrets.token_urlsafe(12), "use": "sig", "alg": "RS256"}
    return RSAKey.generate_key(2048, parameters=params, private=True)
