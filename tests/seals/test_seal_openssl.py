"""Our seal signatures checked by software we did not write: the openssl CLI verifies the signature zone
of a VDS, an IDB and a VDS-NC made here (r||s converted to DER), over the bytes the format says are signed."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import require
from cryptography.hazmat.primitives import serialization
from sealkit import TODAY, pki

from mrtd.pki.signer import der_ecdsa
from mrtd.seals import idb, vds, vdsnc
from mrtd.seals.issue import DocumentKind, SealRequest, make_idb, make_vds, make_vdsnc

ETD_MRZ = ("I<UTOONEILL<<SIOBHAN<<<<<<<<<<<<<<<<", "E12345670UTO8001014F2701012<<<<<<<<6")


def _openssl_verify(tmp: Path, public_pem: bytes, data: bytes, raw_sig: bytes, digest: str) -> str:
    require(shutil.which("openssl") is not None, "openssl CLI")
    (tmp / "pub.pem").write_bytes(public_pem)
    (tmp / "data.bin").write_bytes(data)
    (tmp / "sig.der").write_bytes(der_ecdsa(raw_sig))
    result = subprocess.run(
        ["openssl", "dgst", f"-{digest}", "-verify", str(tmp / "pub.pem"), "-signature", str(tmp / "sig.der"),
         str(tmp / "data.bin")], capture_output=True, text=True, check=False)
    return result.stdout.strip() + result.stderr.strip()


@pytest.mark.parametrize("fmt", ["vds", "idb", "vdsnc"])
def test_openssl_verifies_our_signatures(tmp_path: Path, fmt: str) -> None:
    p = pki()
    req = SealRequest(DocumentKind.ETD, "D<<", ETD_MRZ, TODAY)
    if fmt == "vds":
        seal = vds.decode(make_vds(req, p.seal_signer, p.seal_cert, TODAY).raw)
        data, sig, key = seal.signed_bytes, seal.signature, p.seal_cert.public_key()
    elif fmt == "idb":
        parsed = idb.decode(make_idb(req, p.seal_signer, p.seal_der, TODAY).text)
        data, sig, key = parsed.signed_bytes, parsed.signature, p.seal_cert.public_key()
    else:
        nc = vdsnc.decode(make_vdsnc(req, p.vdsnc_signer, p.vdsnc_der).text)
        data, sig, key = nc.signed_bytes, nc.signature, p.vdsnc_cert.public_key()
    assert sig is not None
    pem = key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    assert _openssl_verify(tmp_path, pem, data, sig, "sha256") == "Verified OK"
    tampered = bytearray(data)
    tampered[-1] ^= 1
    assert "Verified OK" not in _openssl_verify(tmp_path, pem, bytes(tampered), sig, "sha256")
