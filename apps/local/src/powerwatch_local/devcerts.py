"""Development certificates, generated at run time (never committed).

A throwaway CA signs Driver's server certificate (for 127.0.0.1 and
localhost) and the gateway's client certificate. EC P-256 keys: fast to make.
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

DEV_VALIDITY = timedelta(days=30)


@dataclass(frozen=True)
class Issued:
    key: ec.EllipticCurvePrivateKey
    cert: x509.Certificate

    def write(self, cert_path: Path, key_path: Path) -> None:
        cert_path.write_bytes(self.cert.public_bytes(serialization.Encoding.PEM))
        key_bytes = self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(key_bytes)


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Powerwatch dev"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _builder(
    key: ec.EllipticCurvePrivateKey,
    subject: x509.Name,
    issuer: x509.Name,
    not_before: datetime | None,
    valid_for: timedelta,
) -> x509.CertificateBuilder:
    """What every certificate here has: names, public key, random serial, validity window."""
    # Valid from 5 minutes ago by default, so a peer's slightly slow clock accepts it.
    start = not_before or datetime.now(UTC) - timedelta(minutes=5)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + valid_for)
    )


def make_ca(
    common_name: str = "Powerwatch dev CA",
    *,
    not_before: datetime | None = None,
    valid_for: timedelta = DEV_VALIDITY,
) -> Issued:
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        _builder(key, _name(common_name), _name(common_name), not_before, valid_for)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return Issued(key, cert)


def issue(
    ca: Issued,
    common_name: str,
    *,
    server: bool,
    hosts: tuple[str, ...] = (),
    not_before: datetime | None = None,
    valid_for: timedelta = DEV_VALIDITY,
) -> Issued:
    """A leaf certificate: server (with SANs for `hosts`) or client."""
    key = ec.generate_private_key(ec.SECP256R1())
    builder = (
        _builder(key, _name(common_name), ca.cert.subject, not_before, valid_for)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH]
            ),
            critical=False,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()), critical=False
        )
    )
    if hosts:
        names: list[x509.GeneralName] = []
        for host in hosts:
            try:
                names.append(x509.IPAddress(ipaddress.ip_address(host)))
            except ValueError:
                names.append(x509.DNSName(host))
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    return Issued(key, builder.sign(ca.key, hashes.SHA256()))


@dataclass(frozen=True)
class DevCertPaths:
    directory: Path

    @property
    def ca(self) -> Path:
        return self.directory / "ca.pem"

    @property
    def driver_cert(self) -> Path:
        return self.directory / "driver.pem"

    @property
    def driver_key(self) -> Path:
        return self.directory / "driver-key.pem"

    @property
    def gateway_cert(self) -> Path:
        return self.directory / "gateway.pem"

    @property
    def gateway_key(self) -> Path:
        return self.directory / "gateway-key.pem"

    def all(self) -> tuple[Path, ...]:
        return (self.ca, self.driver_cert, self.driver_key, self.gateway_cert, self.gateway_key)


def ensure_dev_certs(
    directory: Path, hosts: tuple[str, ...] = ("127.0.0.1", "localhost")
) -> DevCertPaths:
    """Create the dev CA and both leaf certificates unless valid ones are already there."""
    paths = DevCertPaths(directory)
    if all(p.is_file() for p in paths.all()) and _valid_for_a_day(paths):
        return paths
    directory.mkdir(parents=True, exist_ok=True)
    ca = make_ca()  # its key is never written: nothing else can be signed with it later
    paths.ca.write_bytes(ca.cert.public_bytes(serialization.Encoding.PEM))
    issue(ca, "driver", server=True, hosts=hosts).write(paths.driver_cert, paths.driver_key)
    issue(ca, "gateway", server=False).write(paths.gateway_cert, paths.gateway_key)
    return paths


def _valid_for_a_day(paths: DevCertPaths) -> bool:
    horizon = datetime.now(UTC) + timedelta(days=1)
    for cert_path in (paths.ca, paths.driver_cert, paths.gateway_cert):
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        if cert.not_valid_after_utc < horizon:
            return False
    return True
