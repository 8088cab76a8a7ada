"""Which hosts a webhook may reach (outbound/address_safety.py): every way of writing an
inward address is refused, global unicast addresses pass. No DNS query: names resolve
through the test's own resolver, and ``localhost`` through the system's /etc/hosts."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv6Address, ip_address

import pytest

from outbound.address_safety import (
    AddressRefused,
    IPAddress,
    Resolver,
    check_webhook_url,
    ipv4_literal,
    resolve,
    why_not_global,
)

# (how the host is written, the address it means)
IPV4_FORMS = [
    ("127.0.0.1", "127.0.0.1"),
    ("127.1", "127.0.0.1"),  # short: the last part fills the rest
    ("127.0.1", "127.0.0.1"),
    ("2130706433", "127.0.0.1"),  # one decimal number
    ("0x7f000001", "127.0.0.1"),  # one hex number
    ("0X7F000001", "127.0.0.1"),
    ("0177.0.0.1", "127.0.0.1"),  # octal parts
    ("0x7f.0.0.1", "127.0.0.1"),
    ("0x7f.1", "127.0.0.1"),
    ("017700000001", "127.0.0.1"),  # one octal number
    ("127.0.0.1.", "127.0.0.1"),  # a trailing dot
    ("10.1", "10.0.0.1"),
    ("0", "0.0.0.0"),
    ("0xa9.0xfe.0xa9.0xfe", "169.254.169.254"),
    ("2852039166", "169.254.169.254"),
    ("8.8.8.8", "8.8.8.8"),
    ("134744072", "8.8.8.8"),
]


@pytest.mark.parametrize(("written", "meant"), IPV4_FORMS)
def test_every_ipv4_form_is_read_as_its_address(written: str, meant: str) -> None:
    assert ipv4_literal(written) == IPv4Address(meant)


@pytest.mark.parametrize("name", ["hooks.example.test", "localhost", "a.b.c.d", "0x7f.example"])
def test_names_are_not_addresses(name: str) -> None:
    assert ipv4_literal(name) is None


@pytest.mark.parametrize("bad", ["1.2.3.256", "1.2.65536", "4294967296", "1.2.3.4.5", "1..2", "08"])
def test_a_number_that_is_no_address_is_refused(bad: str) -> None:
    with pytest.raises(AddressRefused):
        ipv4_literal(bad)


NOT_GLOBAL = {
    # IPv4
    "0.0.0.0": "unspecified",
    "127.0.0.1": "loopback",
    "127.255.255.254": "loopback",
    "10.0.0.1": "private",
    "172.16.0.1": "private",
    "172.31.255.255": "private",
    "192.168.1.1": "private",
    "169.254.169.254": "link-local",
    "100.64.0.1": "carrier-grade NAT",
    "100.127.255.254": "carrier-grade NAT",
    "224.0.0.1": "multicast",
    "239.255.255.250": "multicast",
    "255.255.255.255": "reserved",
    "240.0.0.1": "reserved",
    "192.0.0.8": "reserved",
    "192.0.2.1": "private",  # documentation
    "198.18.0.1": "private",  # benchmarking
    "198.51.100.1": "private",
    "203.0.113.1": "private",
    "192.88.99.1": "reserved",  # 6to4 relay anycast
    # IPv6
    "::": "unspecified",
    "::1": "loopback",
    "fe80::1": "link-local",
    "fe80::1%eth0": "link-local",
    "fc00::1": "private",  # unique-local
    "fd12:3456:789a::1": "private",
    "fec0::1": "reserved",  # site-local
    "ff02::1": "multicast",
    "ff0e::1": "multicast",  # global scope, still multicast
    "2001:db8::1": "private",  # documentation
    "100::1": "private",  # discard-only
    "2001::1": "private",  # Teredo
    "64:ff9b:1::1": "reserved",  # NAT64 for local use
    # IPv6 embedding an inward IPv4 address
    "::ffff:127.0.0.1": "IPv4-mapped and embeds 127.0.0.1",
    "::ffff:10.0.0.1": "IPv4-mapped and embeds 10.0.0.1",
    "::ffff:169.254.169.254": "link-local",
    "::127.0.0.1": "IPv4-compatible",
    "::10.0.0.1": "IPv4-compatible",
    "::8.8.8.8": "IPv4-compatible",  # deprecated: refused whatever it embeds
    "64:ff9b::7f00:1": "NAT64 and embeds 127.0.0.1",
    "64:ff9b::a9fe:a9fe": "NAT64 and embeds 169.254.169.254",
    "64:ff9b::6440:1": "carrier-grade NAT",
    "2002:7f00:1::": "6to4 and embeds 127.0.0.1",
    "2002:a00:1::1": "6to4 and embeds 10.0.0.1",
    "2002:c0a8:101::": "6to4 and embeds 192.168.1.1",
}


@pytest.mark.parametrize(("address", "kind"), NOT_GLOBAL.items())
def test_inward_addresses_are_refused_and_say_why(address: str, kind: str) -> None:
    reason = why_not_global(ip_address(address))
    assert reason is not None and kind in reason


GLOBAL = [
    "8.8.8.8",
    "1.1.1.1",
    "93.184.216.34",
    "100.63.255.255",  # just below carrier-grade NAT
    "100.128.0.0",  # just above
    "172.32.0.1",  # just above 172.16/12
    "2606:4700:4700::1111",
    "2a00:1450:4001:82a::200e",
    "::ffff:8.8.8.8",  # IPv4-mapped, of a global address
    "64:ff9b::808:808",  # NAT64 of 8.8.8.8
    "2002:808:808::1",  # 6to4 of 8.8.8.8
]


@pytest.mark.parametrize("address", GLOBAL)
def test_global_unicast_addresses_pass(address: str) -> None:
    assert why_not_global(ip_address(address)) is None


REFUSED_URLS = [
    "http://127.0.0.1/hook",
    "http://127.1/hook",
    "http://2130706433/hook",
    "http://0x7f000001/hook",
    "http://0177.0.0.1/hook",
    "http://[::1]/hook",
    "http://[::127.0.0.1]/hook",
    "http://[::ffff:127.0.0.1]/hook",
    "http://[64:ff9b::7f00:1]/hook",
    "http://[2002:7f00:1::]/hook",
    "http://[fd00::1]:8080/hook",
    "http://[fe80::1%25eth0]/hook",
    "http://100.64.0.1/hook",
    "http://169.254.169.254/latest/meta-data",
    "http://localhost/hook",
    "http://LOCALHOST:9/hook",
    "http://receiver.localhost/hook",
    "https://[0:0:0:0:0:0:0:1]/hook",
    "ftp://8.8.8.8/hook",
    "file:///etc/passwd",
    "http:///no-host",
    "http://user:pass@8.8.8.8/hook",
    "http://8.8.8.8:99999/hook",
    "http://[::1/hook",
    "http://1.2.3.999/hook",
]


@pytest.mark.parametrize("url", REFUSED_URLS)
def test_registration_refuses_urls_aimed_inward_or_not_http(url: str) -> None:
    with pytest.raises(AddressRefused):
        check_webhook_url(url, allow_private=False)


def nowhere(host: str, port: int) -> list[IPAddress]:
    raise OSError(f"{host} does not resolve")  # as a name no DNS knows, without asking one


def to(*addresses: str) -> Resolver:
    return lambda host, port: [ip_address(a) for a in addresses]


@pytest.mark.parametrize("url", ["https://8.8.8.8/hook", "http://[2606:4700:4700::1111]:8443/"])
def test_registration_accepts_public_urls(url: str) -> None:
    check_webhook_url(url, allow_private=False, resolver=nowhere)


def test_registration_judges_a_name_by_every_address_it_resolves_to() -> None:
    url = "https://hooks.example.test/sms"
    check_webhook_url(url, allow_private=False, resolver=to("8.8.8.8", "2606:4700::1111"))
    check_webhook_url(url, allow_private=False, resolver=nowhere)  # checked when delivered
    for inward in ("10.0.0.7", "::ffff:127.0.0.1", "64:ff9b::a9fe:a9fe"):
        with pytest.raises(AddressRefused, match=r"hooks\.example\.test resolves to"):
            check_webhook_url(url, allow_private=False, resolver=to("8.8.8.8", inward))


def test_allowing_private_addresses_still_needs_http_and_a_host() -> None:
    check_webhook_url("http://127.0.0.1:9/hook", allow_private=True)
    check_webhook_url("http://[::127.0.0.1]/hook", allow_private=True)
    with pytest.raises(AddressRefused):
        check_webhook_url("gopher://127.0.0.1/", allow_private=True)


def test_literals_resolve_to_themselves_and_names_through_the_system() -> None:
    assert resolve("::1", 80) == [IPv6Address("::1")]
    assert resolve("0x7f.1", 80) == [IPv4Address("127.0.0.1")]
    assert IPv4Address("127.0.0.1") in resolve("localhost", 80)  # /etc/hosts, no DNS


def test_the_refusal_names_the_address_a_name_resolved_to() -> None:
    from outbound.address_safety import refuse_inward

    with pytest.raises(AddressRefused) as refused:
        refuse_inward("hooks.example.test", [IPv4Address("8.8.8.8"), IPv4Address("10.0.0.7")])
    assert "hooks.example.test resolves to 10.0.0.7" in str(refused.value)
    assert "private" in str(refused.value)
