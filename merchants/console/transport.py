"""Sending one webhook request safely: no database here, only the network.

A merchant chooses the URL, so the URL is untrusted input that makes *us* send a request
(server-side request forgery). :func:`target_resolve` resolves the host once and refuses
unless every address it resolves to is public (not private, loopback, link-local,
reserved, multicast or otherwise non-global); :func:`post` then connects to exactly the
address that was checked, sending the host's name only in ``Host`` and in TLS (SNI and
the certificate check), so a DNS answer that changes between the check and the connection
(DNS rebinding) cannot move the request into our network. Redirects are never followed
(``http.client`` does not follow them): a 3xx answer is a failed attempt. Every socket
operation has a short timeout and at most ``BODY_READ_LIMIT`` bytes of the answer are read.

Plain ``http://`` is accepted only to a loopback address, and loopback only when the
caller allows it (``WEBHOOKS_ALLOW_LOOPBACK``: the tests and the demo).
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

BODY_READ_LIMIT = 2048
EXCERPT_LENGTH = 500

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class TargetRefused(Exception):
    """The URL may not be sent to; ``str()`` says why, in words a merchant can act on."""


@dataclass(frozen=True, slots=True)
class Target:
    """Where to send: the URL's parts and the one checked address to connect to."""

    scheme: str
    host: str
    port: int
    path: str
    address: str


@dataclass(frozen=True, slots=True)
class Answer:
    """What came back: a status code, or none and an error saying why."""

    status_code: int | None
    excerpt: str
    error: str
    duration_ms: int


def address_allowed(address: IPAddress, *, allow_loopback: bool) -> bool:
    """A public unicast address; loopback too when ``allow_loopback``."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address.is_loopback:
        return allow_loopback
    return address.is_global and not (
        address.is_multicast
        or address.is_private
        or address.is_reserved
        or address.is_link_local
        or address.is_unspecified
    )


def _addresses(host: str, port: int) -> list[IPAddress]:
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise TargetRefused(f"the host {host!r} does not resolve") from None
    found: list[IPAddress] = []
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if address not in found:
            found.append(address)
    if not found:
        raise TargetRefused(f"the host {host!r} does not resolve")
    return found


def target_resolve(url: str, *, allow_loopback: bool) -> Target:
    """Check ``url`` and resolve its host once: every address must be allowed (one bad
    record is enough to refuse, so a mixed answer cannot slip a private address in)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise TargetRefused("the URL is malformed") from None
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http"):
        raise TargetRefused("the URL must start with https://")
    if parts.username is not None or parts.password is not None:
        raise TargetRefused("the URL may not carry a user name or password")
    host = parts.hostname
    if not host:
        raise TargetRefused("the URL has no host")
    port = port or (443 if scheme == "https" else 80)
    addresses = _addresses(host, port)
    for address in addresses:
        if not address_allowed(address, allow_loopback=allow_loopback):
            raise TargetRefused(
                f"{host} is a private, loopback, link-local or reserved address"
                if str(address) == host
                else f"{host} resolves to a private, loopback, link-local or reserved address"
            )
    if scheme == "http" and not all(address.is_loopback for address in addresses):
        raise TargetRefused("the URL must start with https://")
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return Target(scheme=scheme, host=host, port=port, path=path, address=str(addresses[0]))


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the checked address, whatever the host's name resolves to now."""

    def __init__(self, target: Target, timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout)
        self._address = target.address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """TLS to the checked address; the certificate is checked against the host's name."""

    def __init__(self, target: Target, timeout: float, context: ssl.SSLContext) -> None:
        super().__init__(target.host, target.port, timeout=timeout, context=context)
        self._address = target.address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]


def post(
    target: Target,
    *,
    headers: dict[str, str],
    body: bytes,
    timeout: float,
    tls: ssl.SSLContext | None = None,
) -> Answer:
    """POST ``body`` to ``target``; never raises for what the network or the receiver
    does: an answer with no status code carries the error instead. ``tls`` defaults to
    the system's trusted certificates, checked against the URL's host name."""
    connection: http.client.HTTPConnection = (
        _PinnedHTTPSConnection(target, timeout, tls or ssl.create_default_context())
        if target.scheme == "https"
        else _PinnedHTTPConnection(target, timeout)
    )
    started = time.monotonic()

    def elapsed() -> int:
        return int((time.monotonic() - started) * 1000)

    try:
        connection.request("POST", target.path, body=body, headers=headers)
        response = connection.getresponse()
        raw = response.read(BODY_READ_LIMIT)
        return Answer(
            status_code=response.status,
            excerpt=raw.decode("utf-8", errors="replace")[:EXCERPT_LENGTH],
            error="",
            duration_ms=elapsed(),
        )
    except TimeoutError:
        return Answer(None, "", f"timed out after {timeout:g} s", elapsed())
    except ConnectionRefusedError:
        return Answer(None, "", "connection refused", elapsed())
    except ssl.SSLError as error:
        return Answer(None, "", f"TLS error: {error}"[:200], elapsed())
    except (OSError, http.client.HTTPException) as error:
        return Answer(None, "", f"connection failed: {error!r}"[:200], elapsed())
    finally:
        connection.close()
