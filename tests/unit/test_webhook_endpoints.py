"""Endpoint URLs: https only and public addresses only, unless the operator allows more;
retries back off exponentially with jitter and end in the dead-letter list."""

from __future__ import annotations

import ipaddress

import pytest

from ledger.domain.errors import InvalidInput
from ledger.domain.webhooks.endpoints import (
    BlockedAddress,
    EndpointPolicy,
    check_address,
    parse_endpoint,
)
from ledger.domain.webhooks.retries import RetryPolicy

STRICT = EndpointPolicy()
TESTING = EndpointPolicy(allow_http=True, allow_private=True)


def test_a_public_https_url_is_accepted_with_its_port_and_target() -> None:
    endpoint = parse_endpoint("https://hooks.example.com:8443/consent?x=1", STRICT)
    assert (endpoint.host, endpoint.port, endpoint.target) == (
        "hooks.example.com",
        8443,
        "/consent?x=1",
    )


@pytest.mark.parametrize(
    "url",
    [
        "http://hooks.example.com/",
        "ftp://hooks.example.com/",
        "https://user:pw@hooks.example.com/",
        "https:///nohost",
    ],
)
def test_a_url_that_is_not_plain_https_is_refused_naming_the_url(url: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_endpoint(url, STRICT)
    assert caught.value.field == "url"


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/",
        "https://10.1.2.3/",
        "https://192.168.0.10/",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/",
        "https://[fe80::1]/",
        "https://[::ffff:10.0.0.1]/",
        "https://localhost:8443/",
        "https://0.0.0.0/",
    ],
)
def test_private_loopback_and_link_local_addresses_are_refused(url: str) -> None:
    with pytest.raises(BlockedAddress):
        parse_endpoint(url, STRICT)
    assert parse_endpoint(url.replace("https", "http"), TESTING).port > 0


def test_the_operator_may_allow_private_addresses() -> None:
    check_address(ipaddress.ip_address("10.0.0.1"), EndpointPolicy(allow_private=True))
    with pytest.raises(BlockedAddress):
        check_address(ipaddress.ip_address("10.0.0.1"), STRICT)
    check_address(ipaddress.ip_address("93.184.216.34"), STRICT)


def test_retries_back_off_exponentially_with_jitter_then_the_delivery_is_dead() -> None:
    policy = RetryPolicy(base_seconds=1.0, max_delay_seconds=10.0, max_attempts=6)
    assert [policy.delay(n, 0.0) for n in range(1, 6)] == [1.0, 2.0, 4.0, 8.0, 10.0]
    assert policy.delay(3, 0.999) == pytest.approx(2.002, abs=0.01)
    assert policy.delay(6, 0.0) is None
