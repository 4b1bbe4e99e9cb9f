"""`mrtd serve --workers 2 --tls-cert F --tls-key F`: HTTPS that httpx verifies against the certificate,
requests served by two worker processes, Prometheus metrics summed over both, /openapi.json and /docs."""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
import subprocess
import sys
from pathlib import Path

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from servicekit import auth, make_site, make_users, serving


def self_signed(folder: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = folder / "tls.pem", folder / "tls.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_file, key_file


def test_tls_and_two_workers(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site")
    tokens = make_users(site)
    cert, key = self_signed(tmp_path)
    context = ssl.create_default_context(cafile=str(cert))
    with httpx.Client(verify=context, timeout=10) as client, \
            serving(site, "--workers", "2", "--tls-cert", str(cert), "--tls-key", str(key), scheme="https",
                    client=client) as url:
        assert client.get(f"{url}/healthz").json() == {"status": "ok", "records": "sqlite"}
        for _ in range(20):
            assert client.get(f"{url}/v1/whoami", headers=auth(tokens["audra"])).status_code == 200
        metrics = client.get(f"{url}/metrics").text
        served = sum(float(line.rsplit(" ", 1)[1]) for line in metrics.splitlines()
                     if line.startswith("mrtd_http_requests_total{") and 'route="/v1/whoami"' in line)
        assert served == 20, metrics[:2000]
        assert "mrtd_jobs" in metrics
        spec = client.get(f"{url}/openapi.json").json()
        assert spec["info"]["title"] == "mrtd" and "/v1/stations/{name}/claim" in spec["paths"]
        assert "swagger" in client.get(f"{url}/docs").text.lower()
        try:
            httpx.get(f"{url}/healthz", timeout=5)  # the system's CAs do not know this certificate
            raise AssertionError("an unverified certificate was accepted")
        except httpx.ConnectError:
            pass


def test_the_service_checks_each_photo_in_one_thread(tmp_path: Path) -> None:
    """Requests are served side by side, a photo check in each: OpenCV's own worker threads would only
    compete with them for the cores (in a process of its own: the setting is the whole process's)."""
    site = make_site(tmp_path / "site")
    code = ("import cv2, sys, datetime as dt\n"
            "from mrtd.issuance.office import Office\n"
            "from mrtd.issuance.site import load_site\n"
            "from mrtd.service.app import create_app\n"
            "before = cv2.getNumThreads()\n"
            "office = Office(load_site(sys.argv[1]), clock=lambda: dt.datetime.now(dt.UTC))\n"
            "create_app(office)\n"
            "print(before, cv2.getNumThreads())\n"
            "office.close()\n")
    done = subprocess.run([sys.executable, "-c", code, str(site.root)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    before, after = map(int, done.stdout.split())
    assert before >= 1 and after == 1, done.stdout
