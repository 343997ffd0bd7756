"""Asan İmza (Azerbaijan's SIM-based mobile signature) sign-in: cryptographic core.

Modules
-------
``protocol``   portal side, for real: challenge, 4-digit verification code, verification of the
               signed response against the trusted CA, replay guard interface.
``gateway``    the seam to the operator: :class:`AsanGateway` and its result types; its docstring
               lists what a real operator adapter must implement and map.
``simulator``  operator + phone simulator implementing the gateway (demo / tests).
``revocation`` is a certificate revoked? :class:`RevocationChecker`, CRL-based implementation.
``pki``        demo CA and identity certificates for the simulator; the one place where the
               certificate subject ↔ FIN / VÖEN mapping is defined.
``phone``      normalisation of Azerbaijani mobile numbers.
``errors``     every exception raised by the package.

A sign-in, end to end::

    challenge = new_challenge()                       # keep in the session
    digest = challenge_hash(challenge)
    started = await gateway.start(phone=phone, user_id=user_id, challenge_hash=digest,
                                  language="az")
    show(verification_code(digest))                   # same 4 digits on the phone
    result = await gateway.status(started.transaction_id)   # poll until not PENDING
    if result.status is TransactionStatus.SIGNED:
        sign_in = verify_sign_in(challenge_hash=digest, signatures=result.signatures,
                                 trusted_ca_pem=ca_pem, now=datetime.now(UTC))
        if not await replay_guard.consume(started.transaction_id):
            raise ...                                 # already used
"""

from .errors import (
    AsanImzaError,
    AsanVerificationError,
    BadSignature,
    CertificateExpired,
    CertificateNotYetValid,
    CertificateRevoked,
    CertificateValidityError,
    DemoCAError,
    IdentityMismatch,
    MalformedResponse,
    RevocationUnknown,
    SimBlocked,
    StaleRecord,
    TransactionError,
    TransactionExpired,
    TransactionNotFound,
    TransactionNotPending,
    UntrustedCertificate,
    WrongKeyUsage,
    WrongPin,
)
from .gateway import AsanGateway, SignedCertificate, StartResult, StatusResult, TransactionStatus
from .phone import normalize_az_mobile
from .protocol import (
    ReplayGuard,
    VerifiedIdentity,
    VerifiedSignIn,
    challenge_hash,
    check_sign_in_revocation,
    new_challenge,
    verification_code,
    verify_sign_in,
    verify_signed_response,
)
from .revocation import CrlRevocationChecker, RevocationChecker, RevocationStatus

__all__ = [
    "AsanGateway",
    "AsanImzaError",
    "AsanVerificationError",
    "BadSignature",
    "CertificateExpired",
    "CertificateNotYetValid",
    "CertificateRevoked",
    "CertificateValidityError",
    "CrlRevocationChecker",
    "DemoCAError",
    "IdentityMismatch",
    "MalformedResponse",
    "ReplayGuard",
    "RevocationChecker",
    "RevocationStatus",
    "RevocationUnknown",
    "SignedCertificate",
    "SimBlocked",
    "StaleRecord",
    "StartResult",
    "StatusResult",
    "TransactionError",
    "TransactionExpired",
    "TransactionNotFound",
    "TransactionNotPending",
    "TransactionStatus",
    "UntrustedCertificate",
    "VerifiedIdentity",
    "VerifiedSignIn",
    "WrongKeyUsage",
    "WrongPin",
    "challenge_hash",
    "check_sign_in_revocation",
    "new_challenge",
    "normalize_az_mobile",
    "verification_code",
    "verify_sign_in",
    "verify_signed_response",
]
