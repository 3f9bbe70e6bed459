"""The addresses an endpoint's host resolves to, each checked against the policy.

Every address must pass (a name that answers with one public and one private address
is refused): the sender then connects to the first one, the one it checked.
"""

from __future__ import annotations

import ipaddress
import socket

from ledger.domain.errors import InvalidInput
from ledger.domain.webhooks.endpoints import Endpoint, EndpointPolicy, IPAddress, check_address


class Unresolvable(InvalidInput):
    """The endpoint's host does not resolve (now)."""

    code = "unresolvable_host"


def resolve(endpoint: Endpoint, policy: EndpointPolicy, field: str = "url") -> list[IPAddress]:
    """The endpoint's addresses, all allowed; ``BlockedAddress`` or ``Unresolvable`` if not."""
    literal = endpoint.literal_address
    if literal is not None:
        addresses: list[IPAddress] = [literal]
    else:
        try:
            answers = socket.getaddrinfo(endpoint.host, endpoint.port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError) as exc:
            raise Unresolvable(f"{endpoint.host} does not resolve: {exc}", field=field) from None
        addresses = []
        for answer in answers:
            address = ipaddress.ip_address(str(answer[4][0]).split("%")[0])
            if address not in addresses:
                addresses.append(address)
        if not addresses:
            raise Unresolvable(f"{endpoint.host} has no address", field=field)
    for address in addresses:
        check_address(address, policy, field)
    return addresses
