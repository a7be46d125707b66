"""Where this server is, as the outside world reaches it: the base of every external URL we hand out
(e.g. the image URLs WeChat's media check fetches).

Never the request's Host header: whoever sends the request chooses it, so a URL built from it would
let an attacker's host answer WeChat's fetch with a harmless image. The base is PUBLIC_BASE_URL
(required in production); without it (development, test) it is the address the connection reached
this server on, taken from the socket, or what a proxy listed in TRUSTED_PROXIES says in
X-Forwarded-Proto / X-Forwarded-Host. Nobody else's X-Forwarded-* headers are read.
"""

from __future__ import annotations

import functools
import ipaddress
import re

from sanic import Request

# A host[:port] as a proxy may forward it: letters, digits, dots, dashes, an IPv6 literal in brackets
_HOST = re.compile(r"(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?")


@functools.lru_cache(maxsize=8)
def _networks(trusted: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    """The configured proxies, parsed once per setting (not on every request)."""
    return tuple(ipaddress.ip_network(network, strict=False) for network in trusted)


def peer_is_trusted(request: Request, trusted: tuple[str, ...]) -> bool:
    """Whether the directly connected peer is one of the configured proxies."""
    if not trusted:
        return False
    try:
        peer = ipaddress.ip_address(request.conn_info.client_ip if request.conn_info else "")
    except ValueError:
        return False
    return any(peer in network for network in _networks(trusted))


def client_address(request: Request) -> str:
    """The address of whoever sent the request, for rate limits: the socket's peer; when that peer is
    a configured proxy, the nearest address in X-Forwarded-For that is not one of our proxies (each
    proxy appends the address it saw, so entries left of an untrusted one may be made up)."""
    peer = request.conn_info.client_ip if request.conn_info else ""
    trusted = request.app.ctx.settings.trusted_proxies
    if not peer_is_trusted(request, trusted):
        return peer
    networks = _networks(trusted)
    for entry in reversed((request.headers.get("x-forwarded-for") or "").split(",")[-8:]):
        try:
            address = ipaddress.ip_address(entry.strip())
        except ValueError:
            return peer  # a malformed chain names nobody: count it against the proxy's own bucket
        if not any(address in network for network in networks):
            return str(address)
    return peer


def _forwarded(request: Request, name: str) -> str:
    # A chain of proxies appends: the value the first (outermost) one set is the leftmost
    return (request.headers.get(name) or "").split(",")[0].strip()


def public_base(request: Request) -> str:
    """The absolute base URL (no trailing slash) of this server as the outside world reaches it."""
    settings = request.app.ctx.settings
    if settings.public_base_url:
        return str(settings.public_base_url)
    conn = request.conn_info
    scheme = "https" if conn is not None and conn.ssl else "http"
    host = conn.server if conn is not None else f"{settings.host}:{settings.port}"
    if peer_is_trusted(request, settings.trusted_proxies):
        proto, forwarded_host = (
            _forwarded(request, "x-forwarded-proto"),
            _forwarded(request, "x-forwarded-host"),
        )
        if proto in ("http", "https"):
            scheme = proto
        if _HOST.fullmatch(forwarded_host):
            host = forwarded_host
    return f"{scheme}://{host}"


def configured_base(request: Request) -> str:
    """The base of the absolute links we hand clients (photos, attachments): PUBLIC_BASE_URL, which
    production requires; in development and tests the address the connection reached, taken from
    the socket. Never from a request header, not even a trusted proxy's: a link is configuration."""
    settings = request.app.ctx.settings
    if settings.public_base_url:
        return str(settings.public_base_url)
    conn = request.conn_info
    scheme = "https" if conn is not None and conn.ssl else "http"
    return f"{scheme}://{conn.server if conn is not None else f'{settings.host}:{settings.port}'}"
