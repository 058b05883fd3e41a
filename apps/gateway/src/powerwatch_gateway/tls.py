"""TLS contexts: TLS 1.3 only, mutual authentication, both directions."""

from __future__ import annotations

import ssl
from pathlib import Path


def client_context(ca_file: Path, cert_file: Path, key_file: Path) -> ssl.SSLContext:
    """The gateway's side: pin Driver's CA, check its name/IP, present our certificate."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # CERT_REQUIRED + check_hostname
    context.minimum_version = ssl.TLSVersion.TLSv1_3
    context.verify_mode = ssl.CERT_REQUIRED
    context.check_hostname = True
    context.load_verify_locations(cafile=str(ca_file))
    context.load_cert_chain(str(cert_file), str(key_file))
    return context


def server_context(ca_file: Path, cert_file: Path, key_file: Path) -> ssl.SSLContext:
    """Driver's side (driver-sim): require a client certificate from our CA."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_3
    context.verify_mode = ssl.CERT_REQUIRED
    context.load_verify_locations(cafile=str(ca_file))
    context.load_cert_chain(str(cert_file), str(key_file))
    return context
