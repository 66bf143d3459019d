"""coturn as docker-compose.yml runs it: the denied peer ranges checked against the IANA
special-purpose registries, then enforced by Debian's real ``turnserver``; and what a
time-limited credential can and cannot do once it has expired."""

from __future__ import annotations

import asyncio
import ipaddress
import pathlib
import shutil
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager

import pytest
import yaml
from aioice import stun
from aioice.turn import TurnClientUdpProtocol

from media.turn import mint_credential

ROOT = pathlib.Path(__file__).resolve().parents[2]
SECRET = "coturn-policy-test-secret"

# Not globally reachable per the IANA IPv4 and IPv6 Special-Purpose Address Registries
# (RFC 6890 and the RFCs that updated them), plus deprecated blocks that still reach
# private space. Blocks the registries mark globally reachable (AS112, AMT, 2620:4f:8000::/48)
# are not listed: relaying to them is relaying to the Internet.
SPECIAL_V4 = {
    "0.0.0.0/8": "this network (RFC 791)",
    "10.0.0.0/8": "private use (RFC 1918)",
    "100.64.0.0/10": "shared address space, carrier NAT (RFC 6598)",
    "127.0.0.0/8": "loopback (RFC 1122)",
    "169.254.0.0/16": "link local, cloud metadata (RFC 3927)",
    "172.16.0.0/12": "private use (RFC 1918)",
    "192.0.0.0/24": "IETF protocol assignments (RFC 6890)",
    "192.0.2.0/24": "documentation TEST-NET-1 (RFC 5737)",
    "192.88.99.0/24": "6to4 relay anycast, deprecated (RFC 7526)",
    "192.168.0.0/16": "private use (RFC 1918)",
    "198.18.0.0/15": "benchmarking (RFC 2544)",
    "198.51.100.0/24": "documentation TEST-NET-2 (RFC 5737)",
    "203.0.113.0/24": "documentation TEST-NET-3 (RFC 5737)",
    "224.0.0.0/4": "multicast (RFC 5771)",
    "240.0.0.0/4": "reserved (RFC 1112)",
    "255.255.255.255/32": "limited broadcast (RFC 919)",
}
SPECIAL_V6 = {
    "::/128": "unspecified (RFC 4291)",
    "::1/128": "loopback (RFC 4291)",
    "::/96": "IPv4-compatible, deprecated (RFC 4291)",
    "::ffff:0:0/96": "IPv4-mapped (RFC 4291)",
    "64:ff9b::/96": "IPv4/IPv6 translation (RFC 6052)",
    "64:ff9b:1::/48": "local-use IPv4/IPv6 translation (RFC 8215)",
    "100::/64": "discard-only (RFC 6666)",
    "100:0:0:1::/64": "dummy prefix (RFC 9780)",
    "2001::/23": "IETF protocol assignments, Teredo 2001::/32 (RFC 2928, 4380)",
    "2001:db8::/32": "documentation (RFC 3849)",
    "2002::/16": "6to4 (RFC 3056)",
    "3fff::/20": "documentation (RFC 9637)",
    "5f00::/16": "segment routing SIDs (RFC 9602)",
    "fc00::/7": "unique local (RFC 4193)",
    "fe80::/10": "link-local unicast (RFC 4291)",
    "fec0::/10": "site-local, deprecated (RFC 3879)",
    "ff00::/8": "multicast (RFC 4291)",
}
NATIVE = ("0.0.0.0", "127.0.0.1", "::", "::1")
"""Peers coturn refuses by itself (unspecified and loopback); a range cannot name ::
without opening below it (see docker-compose.yml)."""
PUBLIC = ("8.8.8.8", "1.1.1.1", "114.114.114.114", "223.5.5.5", "2400:3200::1",
          "2001:4860:4860::8888", "2606:4700:4700::1111")
"""Public resolvers (including China's): relaying to the Internet must still work."""

Range = tuple[int, int]


def coturn_args() -> list[str]:
    doc = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return [str(a) for a in doc["services"]["coturn"]["command"]]


def denied_ranges(args: list[str]) -> dict[int, list[Range]]:
    """``--denied-peer-ip=A[-B]`` as merged integer ranges per IP version."""
    out: dict[int, list[Range]] = {4: [], 6: []}
    for a in args:
        if not a.startswith("--denied-peer-ip="):
            continue
        lo_s, _, hi_s = a.split("=", 1)[1].partition("-")
        lo_ip, hi_ip = ipaddress.ip_address(lo_s), ipaddress.ip_address(hi_s or lo_s)
        assert lo_ip.version == hi_ip.version and int(lo_ip) <= int(hi_ip), a
        out[lo_ip.version].append((int(lo_ip), int(hi_ip)))
    for version, ranges in out.items():
        merged: list[Range] = []
        for lo, hi in sorted(ranges):
            if merged and lo <= merged[-1][1] + 1:
                merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
            else:
                merged.append((lo, hi))
        out[version] = merged
    return out


def covered(net: ipaddress.IPv4Network | ipaddress.IPv6Network, ranges: list[Range]) -> bool:
    """Every address of ``net`` is denied, apart from those coturn refuses natively."""
    first, last = int(net.network_address), int(net.broadcast_address)
    native = {int(ipaddress.ip_address(a)) for a in NATIVE
              if ipaddress.ip_address(a).version == net.version}
    while first in native and first <= last:
        first += 1
    return first > last or any(lo <= first and last <= hi for lo, hi in ranges)


def is_box(lo: bytes, hi: bytes) -> bool:
    """True when the range is a whole prefix: equal bytes, then one byte with lo <= hi,
    then 00 below and ff above. coturn checks IPv6 byte by byte (each byte of the peer
    between those of the ends); for such a range that means the same as "between"."""
    k = 0
    while k < len(lo) and lo[k] == hi[k]:
        k += 1
    if k == len(lo):
        return True
    return lo[k] <= hi[k] and all(b == 0 for b in lo[k + 1:]) \
        and all(b == 0xFF for b in hi[k + 1:])


def test_the_compose_file_denies_every_special_purpose_range_and_no_public_one() -> None:
    args = coturn_args()
    ranges = denied_ranges(args)
    for block, why in {**SPECIAL_V4, **SPECIAL_V6}.items():
        net = ipaddress.ip_network(block)
        assert covered(net, ranges[net.version]), f"{block} ({why}) is not denied"
    for addr in PUBLIC:
        ip = ipaddress.ip_address(addr)
        assert not covered(ipaddress.ip_network(ip), ranges[ip.version]), addr
    for a in args:
        if a.startswith("--denied-peer-ip="):
            lo_s, _, hi_s = a.split("=", 1)[1].partition("-")
            lo, hi = ipaddress.ip_address(lo_s), ipaddress.ip_address(hi_s or lo_s)
            assert int(lo) != 0 or lo.version == 4, f"{a}: a range from :: denies all IPv4"
            if lo.version == 6:
                assert is_box(lo.packed, hi.packed), f"{a} is not a whole prefix"
    # An allowed range overrides a denial; loopback peers are for tests only.
    assert not any(a.startswith(("--allowed-peer-ip", "--allow-loopback-peers")) for a in args)
    for flag in ("--no-tcp-relay", "--no-multicast-peers", "--use-auth-secret", "--no-cli"):
        assert flag in args, flag
    secret = next(a for a in args if a.startswith("--static-auth-secret="))
    assert ":?" in secret, "compose must refuse to start coturn without a secret"


# -- the real coturn -------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def coturn(tmp_path: pathlib.Path) -> Iterator[dict[str, int]]:
    """coturn with the compose file's policy, listening on loopback (IPv4 and IPv6) with
    relay addresses of both families; yields the ports."""
    binary = shutil.which("turnserver")
    if binary is None:
        pytest.skip("coturn (turnserver) is not installed")
    policy = [a for a in coturn_args() if a.startswith(("--denied-peer-ip", "--no-tcp-relay",
                                                         "--no-multicast-peers", "--user-quota",
                                                         "--use-auth-secret", "--realm",
                                                         "--fingerprint", "--no-cli"))]
    port = free_port()
    low = 40_000 + (port % 200) * 100
    proc = subprocess.Popen(
        [binary, "-n", "--listening-ip=127.0.0.1", "--listening-ip=::1",
         "--relay-ip=127.0.0.1", "--relay-ip=::1", f"--listening-port={port}",
         f"--min-port={low}", f"--max-port={low + 99}", f"--static-auth-secret={SECRET}",
         # An IPv6 client gets an IPv6 relay (aioice cannot ask for a family).
         "--allocation-default-address-family=keep",
         "--no-tls", "--no-dtls", f"--pidfile={tmp_path / 'turn.pid'}",
         f"--log-file={tmp_path / 'turn.log'}", "--simple-log", "--no-stdout-log",
         "--db", str(tmp_path / "turndb"), *policy],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield {"port": port}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


@asynccontextmanager
async def turn_client(host: str, port: int, username: str, password: str
                      ) -> AsyncIterator[TurnClientUdpProtocol]:
    loop = asyncio.get_running_loop()
    transport, proto = await loop.create_datagram_endpoint(
        lambda: TurnClientUdpProtocol((host, port), username, password, 600, 300),
        remote_addr=(host, port))
    try:
        yield proto
    finally:
        if proto.refresh_task is not None:
            proto.refresh_task.cancel()
        transport.close()


async def allocate(proto: TurnClientUdpProtocol) -> tuple[str, int]:
    """Allocate, retrying while coturn is still starting (it answers nothing then)."""
    for _ in range(100):
        try:
            return await proto.connect()
        except stun.TransactionTimeout:
            continue
    raise AssertionError("coturn never answered")


async def answer(proto: TurnClientUdpProtocol, request: stun.Message) -> int:
    """0 for success, else the STUN error code."""
    try:
        await proto.request_with_retry(request)
        return 0
    except stun.TransactionFailed as exc:
        return int(exc.response.attributes["ERROR-CODE"][0])


async def permission(proto: TurnClientUdpProtocol, peer: str) -> int:
    req = stun.Message(message_method=stun.Method.CREATE_PERMISSION,
                       message_class=stun.Class.REQUEST)
    req.attributes["XOR-PEER-ADDRESS"] = (peer, 9)
    return await answer(proto, req)


def inside(block: str) -> str:
    """An address inside a block (not the first: some blocks are one address long)."""
    net = ipaddress.ip_network(block)
    return str(net.network_address + min(net.num_addresses - 1, 5))


async def test_coturn_refuses_relay_to_every_denied_range_and_allows_public_peers(
        coturn: dict[str, int]) -> None:
    cred = mint_credential(SECRET, "p1", ttl=600)
    for host, special, public in (("127.0.0.1", SPECIAL_V4, PUBLIC[:4]),
                                  ("::1", SPECIAL_V6, PUBLIC[4:])):
        async with turn_client(host, coturn["port"], cred.username, cred.password) as proto:
            relayed = await allocate(proto)
            assert ipaddress.ip_address(relayed[0]).version == \
                ipaddress.ip_address(host).version
            refused = {block: await permission(proto, inside(block)) for block in special}
            # 403 Forbidden IP; multicast can also be "address family not supported".
            assert all(code in (403, 440, 443) for code in refused.values()), refused
            for addr in public:
                assert await permission(proto, addr) == 0, addr
    # A mapped or translated IPv4 address cannot smuggle a private destination past the
    # IPv4 list; coturn refuses the unspecified and loopback addresses by itself.
    async with turn_client("::1", coturn["port"], cred.username, cred.password) as proto:
        await allocate(proto)
        for peer in ("::ffff:10.0.0.1", "::ffff:127.0.0.1", "::ffff:169.254.169.254",
                     "64:ff9b::a00:1", "::a00:1", "100::5", "::", "::1"):
            assert await permission(proto, peer) != 0, peer
    async with turn_client("127.0.0.1", coturn["port"], cred.username, cred.password) as p4:
        await allocate(p4)
        for peer in ("0.0.0.0", "127.0.0.1"):
            assert await permission(p4, peer) != 0, peer


async def test_coturn_refuses_a_tcp_relay(coturn: dict[str, int]) -> None:
    cred = mint_credential(SECRET, "p1", ttl=600)
    async with turn_client("127.0.0.1", coturn["port"], cred.username, cred.password) as proto:
        req = stun.Message(message_method=stun.Method.ALLOCATE, message_class=stun.Class.REQUEST)
        req.attributes["LIFETIME"] = 600
        req.attributes["REQUESTED-TRANSPORT"] = 6 << 24  # TCP (RFC 6062)
        for _ in range(100):
            try:
                code = await answer(proto, req)
                break
            except stun.TransactionTimeout:
                continue
        assert code == 442  # Unsupported Transport Protocol


async def test_an_expired_credential_gets_no_new_allocation(coturn: dict[str, int]) -> None:
    fresh = mint_credential(SECRET, "p1", ttl=600)
    async with turn_client("127.0.0.1", coturn["port"], fresh.username, fresh.password) as p:
        await allocate(p)  # coturn is up and the secret is right
    expired = mint_credential(SECRET, "p1", ttl=60, now=time.time() - 120)
    async with turn_client("127.0.0.1", coturn["port"], expired.username,
                           expired.password) as proto:
        with pytest.raises(stun.TransactionFailed) as caught:
            await proto.connect()
    assert caught.value.response.attributes["ERROR-CODE"][0] == 401


async def test_an_allocation_made_in_time_outlives_its_credential(
        coturn: dict[str, int]) -> None:
    """What coturn cannot do, stated as a test: it checks a REST credential's expiry only
    when allocating, so an allocation made before expiry goes on being refreshed and
    given permissions. Tiaojie's control is therefore a short TTL, no credential for the
    lobby, none re-issued after removal or the end, and the SFU closing the removed
    participant's transport (docs/security.md)."""
    cred = mint_credential(SECRET, "p1", ttl=2)
    async with turn_client("127.0.0.1", coturn["port"], cred.username, cred.password) as proto:
        await allocate(proto)
        while time.time() <= cred.expires_at + 1:  # wait for the condition: expired
            await asyncio.sleep(0.2)
        assert await permission(proto, PUBLIC[0]) == 0
        refresh = stun.Message(message_method=stun.Method.REFRESH,
                               message_class=stun.Class.REQUEST)
        refresh.attributes["LIFETIME"] = 600
        assert await answer(proto, refresh) == 0


def test_the_policy_flags_exist_in_this_coturn() -> None:
    """A flag coturn does not know would stop it at start-up in production."""
    man = subprocess.run(["man", "turnserver"], capture_output=True, text=True)
    if man.returncode != 0:
        pytest.skip("coturn's man page is not installed")
    text = man.stdout.replace("\u2010", "-")
    for flag in {a.split("=", 1)[0] for a in coturn_args()}:
        assert flag in text, flag
