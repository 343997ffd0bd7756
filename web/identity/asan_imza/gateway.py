"""The seam between the portal and an Asan İmza operator: what the portal asks and gets back.

Flow
----
1. The portal makes a random challenge (:func:`.protocol.new_challenge`), keeps it in the
   user's session, and calls :meth:`AsanGateway.start` with the **SHA-256 hash only** plus the
   phone number (normalised with :func:`.phone.normalize_az_mobile`), the Asan İmza user ID and
   the UI language. The challenge itself never leaves the portal.
2. The portal shows :func:`.protocol.verification_code` of that hash. The phone derives the same
   4 digits from the hash it receives; the code itself is never transmitted.
3. The portal polls :meth:`AsanGateway.status` until it is no longer ``PENDING``.
4. On ``SIGNED`` the portal verifies every :class:`SignedCertificate` with
   :func:`.protocol.verify_signed_response` (or :func:`.protocol.verify_sign_in`) against the
   trusted CA and consumes the transaction id in a :class:`.protocol.ReplayGuard`.

Statuses
--------
``PENDING``   waiting for the phone; ``expires_at`` from :class:`StartResult` bounds it.
``SIGNED``    the user confirmed with PIN1; ``signatures`` holds one entry per certificate.
``REFUSED``   the user pressed "cancel" on the phone (``reason="user_refused"``).
``EXPIRED``   nobody answered within the TTL (``reason="timeout"``). Unknown phone numbers and
              user IDs that don't match the phone also end here — on purpose, so a caller cannot
              tell registered numbers from unregistered ones.
``BLOCKED``   the SIM's signature PIN is blocked (``reason="sim_blocked"``). Kept apart from
              REFUSED because the user must be told to unblock it with PUK at an ASAN service
              centre, and retrying is pointless. It is only ever reported after the phone holder
              acted (typed a wrong PIN the last time, or tried to confirm on a blocked SIM), so it
              reveals nothing to someone who merely types a number.

Writing a real operator adapter
-------------------------------
A class implementing :class:`AsanGateway` against the national operator must:

* ``start``: send the phone (E.164, ``+994…``), user ID, the 32-byte hash (operators usually
  want it base64-encoded, with the hash algorithm named as SHA-256) and the language
  (``az``/``en``/``ru``); return the operator's transaction/session id and the moment the
  operator will stop waiting (operator timeout, or now + the agreed TTL). Transport errors are
  raised as exceptions, never turned into a status.
* ``status``: poll (or long-poll) the operator and map its result codes onto
  :class:`TransactionStatus`: running → PENDING; OK → SIGNED; user cancel → REFUSED;
  timeout / phone absent / not an Asan İmza client / user-ID mismatch → EXPIRED (do not leak
  which one to the browser); PIN blocked / certificate revoked or suspended → BLOCKED or
  REFUSED with a ``reason`` code. Unknown ids raise :class:`.errors.TransactionNotFound`.
* For SIGNED, return for each certificate: the chain as PEM bytes, end-entity first, and the
  signature as **DER-encoded ECDSA** (``SEQUENCE { r, s }``) over the hash sent in ``start``
  (i.e. the hash is the prehashed SHA-256 digest; the signature is an ordinary ECDSA-SHA256
  signature of the original challenge). Operators returning raw ``r || s`` must be converted
  with ``cryptography.hazmat.primitives.asymmetric.utils.encode_dss_signature``; DER
  certificates with ``Certificate.public_bytes(Encoding.PEM)``.
* Check that the subject encoding of the real certificates matches
  :func:`.pki.parse_identity_name` (FIN in ``serialNumber``, VÖEN in ``organizationIdentifier``)
  and adapt that one function if it does not.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol, runtime_checkable

__all__ = [
    "REASON_SIM_BLOCKED",
    "REASON_TIMEOUT",
    "REASON_USER_REFUSED",
    "AsanGateway",
    "SignedCertificate",
    "StartResult",
    "StatusResult",
    "TransactionStatus",
]

REASON_USER_REFUSED = "user_refused"
REASON_TIMEOUT = "timeout"
REASON_SIM_BLOCKED = "sim_blocked"


class TransactionStatus(StrEnum):
    """Where an Asan İmza transaction stands, as seen by the portal."""

    PENDING = "pending"
    SIGNED = "signed"
    REFUSED = "refused"
    EXPIRED = "expired"
    BLOCKED = "blocked"

    @property
    def is_final(self) -> bool:
        """True once polling can stop."""
        return self is not TransactionStatus.PENDING


@dataclass(frozen=True, slots=True)
class StartResult:
    """The operator accepted the request; poll ``transaction_id`` until ``expires_at``."""

    transaction_id: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class SignedCertificate:
    """One certificate the identity holds and its signature of the challenge hash.

    ``certificate_chain_pem`` is end-entity first, optionally followed by intermediates and the
    root. ``signature`` is DER-encoded ECDSA over the 32-byte hash (prehashed SHA-256).
    """

    certificate_chain_pem: list[bytes]
    signature: bytes


@dataclass(frozen=True, slots=True)
class StatusResult:
    """Answer to a status poll. ``signatures`` is set only for SIGNED, ``reason`` for failures."""

    status: TransactionStatus
    signatures: list[SignedCertificate] | None = None
    reason: str | None = None


@runtime_checkable
class AsanGateway(Protocol):
    """What the portal needs from an Asan İmza operator (real adapter or simulator)."""

    async def start(
        self, *, phone: str, user_id: str, challenge_hash: bytes, language: str
    ) -> StartResult:
        """Ask the operator to send the hash to the phone; never reveals if the phone exists."""
        ...

    async def status(self, transaction_id: str) -> StatusResult:
        """Current state of a transaction; raises TransactionNotFound for unknown ids."""
        ...
