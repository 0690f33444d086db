"""RS256 signing keys for the fake OpenID provider, and ``at_hash`` (OIDC Core §3.1.3.6)."""

import base64
import functools
import hashlib
from typing import Any

from joserfc import jwt
from joserfc.jwk import RSAKey


@functools.cache
def signing_key(kid: str) -> RSAKey:
    """A 2048-bit RSA key named ``kid`` (made once per test session: generating is slow)."""
    return RSAKey.generate_key(2048, parameters={"kid": kid, "alg": "RS256", "use": "sig"})


def jwks(*keys: RSAKey) -> dict[str, Any]:
    """The public JWK set published at the keys endpoint."""
    return {"keys": [k.as_dict(private=False) for k in keys]}


def sign(claims: dict[str, Any], key: RSAKey) -> str:
    """A compact RS256 JWT with the key's ``kid`` in the header."""
    return jwt.encode({"alg": "RS256", "typ": "JWT", "kid": key.kid}, claims, key)


def at_hash(access_token: str) -> str:
    """base64url of the left half of SHA-256 of the access token."""
    digest = hashlib.sha256(access_token.encode()).digest()
    return base64.urlsafe_b64encode(digest[: len(digest) // 2]).rstrip(b"=").decode()
