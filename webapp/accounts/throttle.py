"""Sign-in throttling: password checks counted per account and per address, in the cache.

Without it, a password can be guessed as fast as the server hashes, and eight
parallel guessers keep every worker busy hashing. Each password check first
takes one try from two counters, the account's (by user name, whether or not
it exists, so a lock says nothing about which accounts exist) and the client
address's; a check that would go past either limit is refused without
hashing. A failed check keeps its try, a right password gives the address's
try back and clears the account's counter. Counters live in the cache that
settings.CACHES names: Redis, shared by every ASGI process, whose INCR is
atomic and keeps a key's expiry, so a window runs from the first failure.
(A cache whose ``incr`` rewrites the expiry, like the database cache, would
stretch windows; don't configure one.)
"""

from __future__ import annotations

import contextlib
import hashlib
import ipaddress

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest


def address_of(request: HttpRequest | None) -> str | None:
    """The client address a counter is kept for: IPv4 as is, IPv6 by its /64 network.

    REMOTE_ADDR is the peer of the ASGI server; behind a proxy, run the server with
    ``--proxy-headers --forwarded-allow-ips=PROXY`` so it is the client's, not the proxy's.
    """
    raw = request.META.get("REMOTE_ADDR") if request is not None else None
    try:
        ip = ipaddress.ip_address(raw or "")
    except ValueError:
        return None
    if ip.version == 6 and ip.ipv4_mapped is None:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(getattr(ip, "ipv4_mapped", None) or ip)


def _account_key(username: str) -> str:
    return "signin:account:" + hashlib.sha256(username.casefold().encode()).hexdigest()[:40]


def _counters(username: str, address: str | None) -> list[tuple[str, int]]:
    counters = [(_account_key(username), settings.WHARF_SIGNIN_ACCOUNT_LIMIT)]
    if address is not None:
        counters.append((f"signin:address:{address}", settings.WHARF_SIGNIN_ADDRESS_LIMIT))
    return counters


def _take(key: str) -> int:
    window = settings.WHARF_SIGNIN_WINDOW_SECONDS
    cache.add(key, 0, timeout=window)
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=window)
        return 1


def _give_back(key: str) -> None:
    with contextlib.suppress(ValueError):  # already expired: nothing to give back
        cache.decr(key)


def begin(username: str, address: str | None) -> bool:
    """Take a try from each counter; False, with nothing taken, if any limit is reached."""
    taken: list[str] = []
    for key, limit in _counters(username, address):
        used = _take(key)
        taken.append(key)
        if used > limit:
            for key_taken in taken:
                _give_back(key_taken)
            return False
    return True


def succeeded(username: str, address: str | None) -> None:
    """The password was right: clear the account's failures, give the address its try back."""
    cache.delete(_account_key(username))
    if address is not None:
        _give_back(f"signin:address:{address}")
