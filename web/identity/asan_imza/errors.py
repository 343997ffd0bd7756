"""Exceptions of the Asan İmza package, in one place so every module raises the same classes.

Hierarchy::

    AsanImzaError
    ├── AsanVerificationError          the portal refuses a signed response (protocol.py)
    │   ├── MalformedResponse          unparsable PEM / empty chain / bad subject encoding
    │   ├── UntrustedCertificate       the chain does not lead to the trusted CA
    │   ├── CertificateValidityError
    │   │   ├── CertificateExpired     now > notAfter of a certificate in the chain
    │   │   └── CertificateNotYetValid now < notBefore of a certificate in the chain
    │   ├── WrongKeyUsage              end-entity lacks digitalSignature or is a CA
    │   ├── BadSignature               the signature does not match the challenge hash
    │   ├── CertificateRevoked         the CA revoked a certificate of the chain (CRL/OCSP)
    │   ├── RevocationUnknown          nobody could say whether it is revoked: refused too
    │   └── IdentityMismatch           the certificates of one response name different people
    ├── WrongPin                       PIN1 did not decrypt the key (attempts_left may be known)
    ├── SimBlocked                     the SIM is blocked after too many wrong PINs
    ├── DemoCAError                    the demo CA files are unusable (wrong secret, half-written)
    ├── StaleRecord                    simulator store: compare-and-set lost against another write
    └── TransactionError               phone-side / gateway-side transaction problems
        ├── TransactionNotFound        unknown id, or not addressed to this phone
        ├── TransactionExpired         the TTL has passed
        └── TransactionNotPending      already signed / refused / blocked (single use)
"""

from __future__ import annotations


class AsanImzaError(Exception):
    """Base class of every error raised by ``web.identity.asan_imza``."""


# --- portal-side verification -------------------------------------------------------------


class AsanVerificationError(AsanImzaError):
    """A signed response from the operator must not be accepted as a sign-in."""


class MalformedResponse(AsanVerificationError):
    """The response cannot be parsed: empty chain, bad PEM, subject not in the agreed encoding."""


class UntrustedCertificate(AsanVerificationError):
    """The certificate chain does not issue up to the trusted CA (name or signature mismatch)."""


class CertificateValidityError(AsanVerificationError):
    """A certificate of the chain is outside its validity window at the verification time."""


class CertificateExpired(CertificateValidityError):
    """``now`` is after a certificate's notAfter."""


class CertificateNotYetValid(CertificateValidityError):
    """``now`` is before a certificate's notBefore."""


class WrongKeyUsage(AsanVerificationError):
    """The end-entity certificate may not sign: no digitalSignature key usage, or CA=true."""


class BadSignature(AsanVerificationError):
    """The signature was not made over this challenge hash by this certificate's key."""


class CertificateRevoked(AsanVerificationError):
    """The issuing CA says a certificate of the chain is revoked (lost SIM, ended contract)."""


class RevocationUnknown(AsanVerificationError):
    """The revocation status could not be established (no current CRL, OCSP unreachable):
    the portal fails closed rather than trusting a possibly revoked certificate."""


class IdentityMismatch(AsanVerificationError):
    """The certificates of one response do not describe one person with a personal certificate."""


# --- PIN / SIM -----------------------------------------------------------------------------


class WrongPin(AsanImzaError):
    """PIN1 did not unlock the private key.

    ``attempts_left`` is filled in by the simulator (how many tries remain before the SIM blocks);
    it is ``None`` when raised by :func:`pki.decrypt_private_key`, which keeps no counter.
    """

    def __init__(self, message: str = "wrong PIN1", *, attempts_left: int | None = None) -> None:
        super().__init__(message)
        self.attempts_left = attempts_left


class SimBlocked(AsanImzaError):
    """The SIM's signature application is blocked (too many wrong PIN1s); the right PIN won't do."""


# --- demo CA -------------------------------------------------------------------------------


class DemoCAError(AsanImzaError):
    """The persisted demo CA cannot be loaded (wrong app secret, partial files, mismatched key)."""


# --- simulator store -----------------------------------------------------------------------


class StaleRecord(AsanImzaError):
    """A simulator store write lost a race: the record changed (or appeared) since it was read."""


# --- transactions --------------------------------------------------------------------------


class TransactionError(AsanImzaError):
    """A transaction cannot be acted on."""


class TransactionNotFound(TransactionError):
    """No such transaction (or it is not addressed to the phone that asks)."""


class TransactionExpired(TransactionError):
    """The transaction's time to live has passed; it can no longer be confirmed or refused."""


class TransactionNotPending(TransactionError):
    """The transaction was already answered (signed, refused, blocked): it is single-use."""
