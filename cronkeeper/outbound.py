"""The outbound policy: where a request whose URL a customer chose may go.

A webhook URL is typed by whoever may edit a job, and the worker (or, for
``?mode=sync``, the API process) sends it from inside the operator's network.
So before every request the host is resolved and each address checked:
loopback, private, link-local, multicast, reserved, unspecified, shared
(100.64/10) and every other non-global address is refused, in every spelling
(``2130706433``, ``0x7f000001``, ``127.1``, ``0177.0.0.1``, ``[::1]``,
``[::ffff:127.0.0.1]``, 6to4 and NAT64 forms of those, names that resolve to
them); only ports 80 and 443 are allowed. The connection then goes to the
address that was checked (the name travels in the ``Host`` header and as TLS
SNI, and the certificate is still verified for the name): a DNS answer that
changes between the check and the connection (rebinding) changes nothing.
Redirects are never followed.

The operator opens holes with ``CRONKEEPER_OUTBOUND_ALLOW``, a comma-separated
list of

- CIDR blocks or single addresses (``10.20.0.0/16``, ``127.0.0.1``, ``::1``):
  those addresses are allowed, on any port;
- ``host:port`` pairs (``hooks.internal:8080``, ``[fd00::5]:9000``): that host
  name (or address) on that port, whatever it resolves to.

A refusal is ``OutboundBlocked``, whose message is only "blocked by outbound
policy": what was found (the address, whether a port is open) is never told
to the customer.
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
import socket
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

from cronkeeper.errors import ConfigurationError, CronkeeperError, ValidationError

ALLOW_ENV = "CRONKEEPER_OUTBOUND_ALLOW"
BLOCKED = "blocked by outbound policy"
DEFAULT_PORTS = frozenset({80, 443})
_NAT64 = ipaddress.ip_network("64:ff9b::/96")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], Awaitable[list[str]]]


class OutboundBlocked(CronkeeperError):
    """blocked by outbound policy"""


@dataclass(frozen=True)
class Policy:
    """The operator's allow-list; see the module docstring."""

    networks: tuple[Network, ...] = ()
    endpoints: frozenset[tuple[str, int]] = field(default_factory=frozenset)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Policy:
        """The policy ``CRONKEEPER_OUTBOUND_ALLOW`` describes (unset: nothing but public 80/443)."""
        env = os.environ if env is None else env
        return cls.parse(env.get(ALLOW_ENV, ""))

    @classmethod
    def parse(cls, text: str) -> Policy:
        """The policy of an allow-list's text; ``ConfigurationError`` naming the variable on a bad entry."""
        networks: list[Network] = []
        endpoints: set[tuple[str, int]] = set()
        for entry in (e.strip() for e in text.split(",")):
            if not entry:
                continue
            try:
                if entry.startswith("[") or (entry.count(":") == 1 and "/" not in entry):
                    host, _, port = entry.rpartition(":")
                    endpoints.add((_normal_host(host.strip("[]")), _port(int(port))))
                else:
                    networks.append(_unmapped_network(ipaddress.ip_network(entry, strict=False)))
            except ValueError:
                raise ConfigurationError(
                    f"{ALLOW_ENV}: {entry!r} is neither a CIDR block (10.0.0.0/8), an address, "
                    "nor host:port (hooks.internal:8080)"
                ) from None
        return cls(tuple(networks), frozenset(endpoints))

    def allows(self, host: str, address: IPAddress, port: int) -> bool:
        """Whether a connection to ``address`` on ``port``, for the name ``host``, may be made."""
        names = {_normal_host(host), str(address), str(unmapped(address))}
        if any((name, port) in self.endpoints for name in names):
            return True
        if any(a in net for a in (address, unmapped(address)) for net in self.networks if a.version == net.version):
            return True
        return port in DEFAULT_PORTS and is_public(address)


def _unmapped_network(net: Network) -> Network:
    """An IPv4-mapped IPv6 block (``::ffff:10.0.0.0/104``) as the IPv4 block it maps."""
    mapped = net.network_address.ipv4_mapped if isinstance(net, ipaddress.IPv6Network) else None
    if mapped is None or net.prefixlen < 96:
        return net
    return ipaddress.ip_network(f"{mapped}/{net.prefixlen - 96}")


def _normal_host(host: str) -> str:
    host = host.strip().lower().rstrip(".")
    literal = literal_address(host)
    return str(unmapped(literal)) if literal is not None else host


def _port(port: int) -> int:
    if not 1 <= port <= 65535:
        raise ValueError(port)
    return port


def literal_address(host: str) -> IPAddress | None:
    """The address ``host`` spells without DNS, in any form the C library accepts; else None.

    IPv4 as the resolver reads it (``2130706433``, ``0x7f000001``, ``127.1``,
    octal ``0177.0.0.1``), IPv6 with or without brackets (a ``%zone`` dropped).
    """
    host = host.strip().strip("[]").split("%", 1)[0]
    if not host:
        return None
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    if ":" in host or not all(c.isalnum() or c == "." for c in host):
        return None
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except OSError:
        return None


def unmapped(address: IPAddress) -> IPAddress:
    """The IPv4 address inside an IPv4-mapped IPv6 one (``::ffff:127.0.0.1``), else ``address``."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _views(address: IPAddress) -> list[IPAddress]:
    """``address`` and every IPv4 address it carries (mapped, 6to4, NAT64, Teredo)."""
    views: list[IPAddress] = [address]
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            views.append(address.ipv4_mapped)
        if address.sixtofour is not None:
            views.append(address.sixtofour)
        if address.teredo is not None:
            views.extend(address.teredo)
        if address in _NAT64:
            views.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    return views


def is_public(address: IPAddress) -> bool:
    """Whether ``address`` (and every IPv4 address it carries) is a global unicast address."""
    return all(
        a.is_global and not (a.is_multicast or a.is_reserved or a.is_loopback or a.is_link_local
                             or a.is_private or a.is_unspecified)
        for a in _views(address)
    )  # fmt: skip


# -- when a URL is saved ---------------------------------------------------------------


def check_url(url: Any, field: str, policy: Policy | None = None) -> str:
    """``url`` when it is an http(s) URL the policy does not already refuse; else ``ValidationError``.

    What can be told without DNS: the scheme, a port from 1 to 65535 (and 80
    or 443 unless allowed), a literal address in any spelling, ``localhost``.
    Names are resolved and checked again at every request.
    """
    policy = Policy.from_env() if policy is None else policy
    try:
        parts = urlsplit(url) if isinstance(url, str) else None
        port = parts.port if parts is not None else None
        if port is not None and not 1 <= port <= 65535:
            raise ValueError(port)
    except ValueError:
        raise ValidationError(f"{field} has an invalid port (1 to 65535); got {str(url)[:120]!r}", field=field) from None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError(f"{field} must be an http(s) URL, got {url!r}"[:300], field=field)
    host = parts.hostname
    port = port or (443 if parts.scheme == "https" else 80)
    name = host.lower().rstrip(".")
    literal = literal_address(host)
    if name == "localhost" or name.endswith(".localhost"):
        literal = ipaddress.IPv4Address("127.0.0.1")
    if literal is not None:
        allowed, what = policy.allows(host, literal, port), host
    else:  # a name: resolved and checked at each request; only the port can be told now
        allowed, what = port in DEFAULT_PORTS or _may_allow(policy, host, port), f"port {port}"
    if not allowed:
        raise ValidationError(
            f"{field}: {what} is {BLOCKED} (only public addresses on ports 80 and 443; "
            f"the operator may allow more in {ALLOW_ENV})",
            field=field,
        )
    return url


def _may_allow(policy: Policy, host: str, port: int) -> bool:
    """Whether the allow-list could let ``host`` use ``port`` (by name, or through a network on any port)."""
    return (_normal_host(host), port) in policy.endpoints or bool(policy.networks)


# -- when a request is made ------------------------------------------------------------------


@dataclass(frozen=True)
class Pinned:
    """A request's URL with the checked address as its host, and what carries the name."""

    url: httpx.URL
    headers: dict[str, str]
    extensions: dict[str, Any]


async def system_resolver(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (the C library's resolver, as a connection would)."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [info[4][0] for info in infos]


def _refuse_early(url: str, policy: Policy) -> str:
    """``url`` with a literal address written plainly (``0177.1`` -> ``127.0.0.1``, which httpx can parse);
    ``OutboundBlocked`` for a bad port or a refused literal address."""
    try:
        parts = urlsplit(url)
        port = parts.port if parts.port is not None else (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise OutboundBlocked() from None
    literal = literal_address(parts.hostname or "")
    if not 1 <= port <= 65535 or (literal is not None and not policy.allows(parts.hostname or "", literal, port)):
        raise OutboundBlocked()
    if literal is None:
        return url
    plain = unmapped(literal)
    host = f"[{plain}]" if plain.version == 6 else str(plain)
    netloc = host if parts.port is None else f"{host}:{parts.port}"
    return urlunsplit(parts._replace(netloc=netloc))  # credentials dropped: a webhook sends none


async def pin(url: str | httpx.URL, policy: Policy, resolver: Resolver | None = None) -> Pinned:
    """Resolve ``url``'s host, check every address, and return the request pinned to the first.

    Raises ``OutboundBlocked`` when any address (or the port) is refused,
    ``httpx.ConnectError`` when the name does not resolve, and
    ``httpx.InvalidURL``/``httpx.UnsupportedProtocol`` for a URL that cannot be sent.
    """
    url = httpx.URL(_refuse_early(str(url), policy))
    if url.scheme not in ("http", "https"):
        raise httpx.UnsupportedProtocol(f"only http and https URLs may be sent, not {url.scheme!r}")
    host = url.raw_host.decode("ascii")
    if not host:
        raise httpx.InvalidURL("the URL has no host")
    port = url.port or (443 if url.scheme == "https" else 80)
    if not 1 <= port <= 65535:
        raise OutboundBlocked()
    literal = literal_address(host)
    if literal is not None:
        found = [literal]
    else:
        try:
            found = [ipaddress.ip_address(a.split("%", 1)[0]) for a in await (resolver or system_resolver)(host, port)]
        except (OSError, ValueError) as exc:
            raise httpx.ConnectError(f"cannot resolve the host ({type(exc).__name__})") from None
    if not found or not all(policy.allows(host, a, port) for a in found):
        raise OutboundBlocked()
    target = unmapped(found[0])
    name = host if literal is None else str(target)
    shown = f"[{name}]" if ":" in name else name
    netloc = shown if url.port is None else f"{shown}:{url.port}"
    extensions = {"sni_hostname": host} if url.scheme == "https" and literal is None else {}
    return Pinned(url.copy_with(host=str(target)), {"Host": netloc}, extensions)
