"""How a seal names its signer certificate: VDS signer id (C || CN) and reference, IDB reference (last
five bytes of the certificate's SHA-1). The certificates themselves are read by `mrtd.asn1.x509`."""

from __future__ import annotations

from mrtd.asn1.x509 import Certificate


def signer_id(cert: Certificate) -> str:
    return cert.country + cert.common_name


def idb_reference(cert: Certificate) -> bytes:
    """The IDB certificate reference: the last 5 bytes of SHA-1 over the certificate as received."""
    return cert.sha1[-5:]


def matches_vds_reference(cert: Certificate, seal_signer: str, cert_ref: str) -> bool:
    """signer id = C || CN and reference = serial in hex (leading zeros ignored) or, as TR-03171 seals
    write it, the SHA-1 of the certificate in hex."""
    if seal_signer != signer_id(cert):
        return False
    try:
        if int(cert_ref, 16) == cert.serial:
            return True
    except ValueError:
        return False
    return cert_ref.lower() == cert.sha1.hex()
