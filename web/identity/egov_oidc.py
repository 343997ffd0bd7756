"""E-Gov identity: the portal as an OpenID Connect relying party (Authlib does the protocol).

Authorization code flow with PKCE (S256), ``state`` and ``nonce``. The provider is found by
discovery (``EGOV_ISSUER_URL`` + ``/.well-known/openid-configuration``); the ID token's signature
is checked against the provider's JWKS (fetched again once when a key id is unknown, so key
rotation works) and its claims against the issuer, our client id, the nonce, and the time.
Nothing here decodes a JWT by hand: Authlib's ``AsyncOpenIDMixin.parse_id_token`` does it.

What the portal learns: the person's FIN (claim ``EGOV_FIN_CLAIM``) and name
(``EGOV_NAME_CLAIM``), from the ID token or else from the userinfo endpoint (same ``sub``).
Companies do not come from E-Gov identity: it vouches for a person, not for whom they may sign.
The companies a person acts for come from the party registry (granted by staff, or shown by a
company certificate at an Asan İmza or Elektron imza sign-in), see docs/sign-in.md.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import httpx
import structlog
from authlib.integrations.base_client import BaseApp, OAuthError
from authlib.integrations.base_client.async_app import AsyncOAuth2Mixin
from authlib.integrations.base_client.async_openid import AsyncOpenIDMixin
from authlib.integrations.httpx_client import AsyncOAuth2Client
from joserfc.errors import JoseError

from web.identity.accounts import normalize_fin
from web.settings import Settings

log = structlog.get_logger(__name__)

# Tolerated clock difference with the provider when checking exp / iat (seconds).
ID_TOKEN_LEEWAY_SECONDS = 60
# Every call to the provider gives up after this long: a sign-in must never hang.
PROVIDER_TIMEOUT_SECONDS = 5.0


class Failure(StrEnum):
    """Why an E-Gov sign-in did not sign anyone in (each has its own message)."""

    UNAVAILABLE = "unavailable"  # the provider did not answer (or answered nonsense)
    DENIED = "denied"  # the citizen refused to share their details
    STALE = "stale"  # no sign-in under way here, or the state does not match
    REJECTED = "rejected"  # the provider refused the code (used twice, expired, …)
    UNVERIFIED = "unverified"  # the ID token did not verify: never trusted
    NO_FIN = "no_fin"  # verified, but it names no FIN we can use


class EgovSignInError(Exception):
    def __init__(self, failure: Failure, detail: str = "") -> None:
        super().__init__(f"{failure}: {detail}" if detail else str(failure))
        self.failure = failure


@dataclass(frozen=True)
class EgovIdentity:
    fin: str
    full_name: str
    id_token: str  # kept for RP-initiated logout (id_token_hint)


@dataclass
class PendingEgovSignIn:
    """What the session keeps between the redirect to the provider and its answer."""

    state: str
    nonce: str
    code_verifier: str
    redirect_uri: str

    def to_session(self) -> dict[str, str]:
        return self.__dict__.copy()

    @classmethod
    def from_session(cls, data: Any) -> PendingEgovSignIn | None:
        try:
            return cls(**data) if isinstance(data, dict) else None
        except TypeError:
            return None


class _OpenIDClient(AsyncOAuth2Mixin, AsyncOpenIDMixin, BaseApp):
    """Authlib's framework-free OpenID client (the Starlette one minus Starlette)."""

    client_cls = AsyncOAuth2Client


class EgovService:
    def __init__(self, settings: Settings, *, transport: httpx.AsyncBaseTransport | None = None):
        self.issuer = settings.egov_issuer_url
        self.client_id = settings.egov_client_id
        self.fin_claim = settings.egov_fin_claim
        self.name_claim = settings.egov_name_claim
        client_kwargs: dict[str, Any] = {
            "scope": settings.egov_scopes,
            "code_challenge_method": "S256",
            "timeout": PROVIDER_TIMEOUT_SECONDS,
        }
        if transport is not None:
            client_kwargs["transport"] = transport
        self._client = _OpenIDClient(
            framework=None,
            client_id=settings.egov_client_id,
            client_secret=settings.egov_client_secret,
            server_metadata_url=f"{self.issuer}/.well-known/openid-configuration",
            client_kwargs=client_kwargs,
        )

    async def _metadata(self) -> dict[str, Any]:
        try:
            metadata = await self._client.load_server_metadata()
        except (httpx.HTTPError, ValueError) as exc:
            raise EgovSignInError(Failure.UNAVAILABLE, f"discovery: {exc!r}") from exc
        if metadata.get("issuer") != self.issuer:
            # OpenID Connect Discovery 1.0 §4.3: the document must name the configured issuer.
            self._client.server_metadata.clear()
            raise EgovSignInError(Failure.UNAVAILABLE, "discovery names another issuer")
        return metadata

    async def start(self, redirect_uri: str) -> tuple[str, PendingEgovSignIn]:
        """The provider's authorization URL and what to keep until it answers."""
        await self._metadata()
        created = await self._client.create_authorization_url(
            redirect_uri,
            state=secrets.token_urlsafe(32),
            nonce=secrets.token_urlsafe(32),
            code_verifier=secrets.token_urlsafe(64),
        )
        pending = PendingEgovSignIn(
            state=created["state"],
            nonce=created["nonce"],
            code_verifier=created["code_verifier"],
            redirect_uri=redirect_uri,
        )
        return created["url"], pending

    async def finish(
        self, pending: PendingEgovSignIn | None, params: dict[str, str]
    ) -> EgovIdentity:
        """Check the provider's answer on the callback URL; the verified person, or raise."""
        state = params.get("state") or ""
        # Bytes: compare_digest refuses non-ASCII text (a TypeError, i.e. a 500).
        if pending is None or not secrets.compare_digest(state.encode(), pending.state.encode()):
            raise EgovSignInError(Failure.STALE, "no sign-in under way with this state")
        if params.get("iss") and params["iss"] != self.issuer:  # RFC 9207: mix-up defence
            raise EgovSignInError(Failure.REJECTED, "the answer names another issuer")
        if params.get("error"):
            failure = Failure.DENIED if params["error"] == "access_denied" else Failure.REJECTED
            raise EgovSignInError(failure, params["error"])
        if not params.get("code"):
            raise EgovSignInError(Failure.REJECTED, "no code")
        await self._metadata()
        try:
            token = await self._client.fetch_access_token(
                redirect_uri=pending.redirect_uri,
                code=params["code"],
                code_verifier=pending.code_verifier,
            )
        except OAuthError as exc:  # invalid_grant: the code was used already, or expired
            raise EgovSignInError(Failure.REJECTED, f"token: {exc.error}") from exc
        except (httpx.HTTPError, ValueError) as exc:
            raise EgovSignInError(Failure.UNAVAILABLE, f"token: {exc!r}") from exc
        if "id_token" not in token:
            raise EgovSignInError(Failure.UNVERIFIED, "no ID token")
        try:
            claims = await self._client.parse_id_token(
                token,
                nonce=pending.nonce,
                claims_options={
                    "iss": {"essential": True, "value": self.issuer},
                    "aud": {"essential": True, "values": [self.client_id]},
                },
                leeway=ID_TOKEN_LEEWAY_SECONDS,
            )
        except JoseError as exc:
            raise EgovSignInError(Failure.UNVERIFIED, f"ID token: {exc!r}") from exc
        except httpx.HTTPError as exc:
            raise EgovSignInError(Failure.UNAVAILABLE, f"JWKS: {exc!r}") from exc
        claims = dict(claims)
        if self.fin_claim not in claims:
            claims.update(await self._userinfo(token, subject=claims["sub"]))
        try:
            fin = normalize_fin(str(claims.get(self.fin_claim) or ""))
        except ValueError as exc:
            raise EgovSignInError(Failure.NO_FIN, "no usable FIN claim") from exc
        full_name = str(claims.get(self.name_claim) or "").strip()
        if not full_name:
            raise EgovSignInError(Failure.NO_FIN, "no name claim")
        return EgovIdentity(fin=fin, full_name=full_name, id_token=token["id_token"])

    async def _userinfo(self, token: dict[str, Any], *, subject: str) -> dict[str, Any]:
        metadata = await self._metadata()
        if not metadata.get("userinfo_endpoint"):
            return {}
        try:
            info = dict(await self._client.userinfo(token=token))
        except (httpx.HTTPError, ValueError) as exc:
            raise EgovSignInError(Failure.UNAVAILABLE, f"userinfo: {exc!r}") from exc
        if info.get("sub") != subject:  # OIDC Core §5.3.2: must be the ID token's subject
            raise EgovSignInError(Failure.UNVERIFIED, "userinfo names another subject")
        return info

    async def logout_url(
        self, *, id_token: str | None, post_logout_redirect_uri: str
    ) -> str | None:
        """Where to send the browser so the provider ends its session too (RP-initiated
        logout), or None when the provider does not offer it or cannot be reached."""
        try:
            metadata = await self._metadata()
        except EgovSignInError:
            return None
        if not metadata.get("end_session_endpoint"):
            return None
        result = await self._client.create_logout_url(
            post_logout_redirect_uri=post_logout_redirect_uri,
            id_token_hint=id_token,
            client_id=self.client_id,
        )
        return result["url"]


def build_egov_service(settings: Settings) -> EgovService | None:
    return EgovService(settings) if settings.egov_enabled else None
