"""Authorization codes and access tokens as an OAuth2 server keeps them (RFC 6749 §4.1, §10.5).

Codes are random, bound to the client, the redirect URI and the user, expire after
``code_ttl_s`` and work once: a second use fails and revokes the tokens the first one gave.
"""

import base64
import binascii
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote


@dataclass
class Code:
    """One issued authorization code."""

    client_id: str
    redirect_uri: str
    user_id: str
    scopes: frozenset[str]
    expires_at: float
    extra: dict[str, str] = field(default_factory=dict)  # e.g. the OIDC nonce
    used: bool = False
    tokens: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Token:
    """One issued access token."""

    user_id: str
    scopes: frozenset[str]
    expires_at: float | None


class Grants:
    """The server side of the code flow, on the fake's clock."""

    def __init__(
        self, now: Callable[[], float], *, code_ttl_s: float, token_ttl_s: float | None
    ) -> None:
        self._now, self.code_ttl_s, self.token_ttl_s = now, code_ttl_s, token_ttl_s
        self._codes: dict[str, Code] = {}
        self._tokens: dict[str, Token] = {}
        self.exchanges = 0  # token requests that gave a token

    def issue_code(
        self, client_id: str, redirect_uri: str, user_id: str, scopes: frozenset[str], **extra: str
    ) -> str:
        code = secrets.token_urlsafe(24)
        expires = self._now() + self.code_ttl_s
        self._codes[code] = Code(client_id, redirect_uri, user_id, scopes, expires, extra)
        return code

    def redeem(self, code: str, client_id: str, redirect_uri: str | None) -> Code | None:
        """The code's grant if it may be exchanged now; None (and revocation) if not."""
        grant = self._codes.get(code)
        if grant is None or grant.client_id != client_id:
            return None
        if grant.used:  # replay: revoke what the first exchange gave (RFC 6749 §4.1.2)
            for token in grant.tokens:
                self._tokens.pop(token, None)
            return None
        grant.used = True
        if self._now() >= grant.expires_at or redirect_uri != grant.redirect_uri:
            return None
        return grant

    def issue_token(self, grant: Code, prefix: str = "") -> tuple[str, Token]:
        token = prefix + secrets.token_urlsafe(24)
        expires = None if self.token_ttl_s is None else self._now() + self.token_ttl_s
        self._tokens[token] = Token(grant.user_id, grant.scopes, expires)
        grant.tokens.append(token)
        self.exchanges += 1
        return token, self._tokens[token]

    def token(self, authorization: str | None) -> Token | None:
        """The live token named by an ``Authorization: Bearer …`` header, else None."""
        scheme, _, value = (authorization or "").partition(" ")
        found = self._tokens.get(value) if scheme == "Bearer" else None
        if found is None or (found.expires_at is not None and self._now() >= found.expires_at):
            return None
        return found


def client_credentials(
    authorization: str | None, form: Mapping[str, Any]
) -> tuple[str, str] | None:
    """(client_id, client_secret) from HTTP Basic or the form body (RFC 6749 §2.3.1)."""
    scheme, _, value = (authorization or "").partition(" ")
    if scheme == "Basic":
        try:
            decoded = base64.b64decode(value, validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return None
        client_id, sep, secret = decoded.partition(":")  # each form-encoded first (§2.3.1)
        return (unquote(client_id), unquote(secret)) if sep else None
    if "client_id" in form and "client_secret" in form:
        return str(form["client_id"]), str(form["client_secret"])
    return None
