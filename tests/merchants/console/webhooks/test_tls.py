"""https:// deliveries check the receiver's certificate against the URL's host name,
while connecting to the address that was checked."""

from __future__ import annotations

import shutil
import ssl
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from merchants.console import transport


@pytest.fixture
def tls_receiver(tmp_path: Path) -> Iterator[tuple[int, Path, list[str]]]:
    """An https server on 127.0.0.1 with a self-signed certificate for hooks.example.test;
    yields its port, the certificate, and the Host headers it was sent."""
    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command to make a certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(  # noqa: S603 - fixed arguments
        [  # noqa: S607
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            "-subj", "/CN=hooks.example.test",
            "-addext", "subjectAltName=DNS:hooks.example.test",
            "-keyout", str(key), "-out", str(cert),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    hosts: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("content-length") or 0))
            hosts.append(self.headers["host"])
            self.send_response(204)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    try:
        yield server.server_address[1], cert, hosts
    finally:
        server.shutdown()
        server.server_close()


def target(port: int, host: str = "hooks.example.test") -> transport.Target:
    """The target as the check resolved it: the name, pinned to loopback."""
    return transport.Target(
        scheme="https", host=host, port=port, path="/hooks", address="127.0.0.1"
    )


def test_a_certificate_not_trusted_is_a_tls_error_and_nothing_is_delivered(tls_receiver):
    port, _, hosts = tls_receiver
    answer = transport.post(target(port), headers={}, body=b"{}", timeout=2)
    assert answer.status_code is None
    assert answer.error.startswith("TLS error:")
    assert "CERTIFICATE_VERIFY_FAILED" in answer.error
    assert hosts == []


def test_a_trusted_certificate_for_the_urls_host_is_accepted_on_the_pinned_address(
    tls_receiver,
):
    port, cert, hosts = tls_receiver
    trusted = ssl.create_default_context(cafile=str(cert))
    answer = transport.post(target(port), headers={}, body=b"{}", timeout=2, tls=trusted)
    assert (answer.status_code, answer.error) == (204, "")
    assert hosts == [f"hooks.example.test:{port}"]


def test_a_certificate_for_another_name_is_refused(tls_receiver):
    port, cert, hosts = tls_receiver
    trusted = ssl.create_default_context(cafile=str(cert))
    answer = transport.post(
        target(port, host="other.example.test"), headers={}, body=b"{}", timeout=2, tls=trusted
    )
    assert answer.status_code is None
    assert "CERTIFICATE_VERIFY_FAILED" in answer.error
    assert hosts == []
