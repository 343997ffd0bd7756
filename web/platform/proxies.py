"""Which TCP peers are our own reverse proxies (TRUSTED_PROXIES), whose headers may be believed.

Headers such as the verified client certificate are set by the proxy; from anyone else they are
forgeries and are ignored.
"""

from __future__ import annotations

import ipaddress

from litestar.connection import ASGIConnection


def peer_is_trusted_proxy(connection: ASGIConnection, trusted: tuple[str, ...]) -> bool:
    """Whether the request's TCP peer (not any forwarded address) is a trusted proxy."""
    client = connection.client
    if client is None or not trusted:
        return False
    try:
        address = ipaddress.ip_address(client.host)
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(network) for network in trusted)
