"""coturn time-limited credentials (use-auth-secret)."""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any

import pytest

from media.config import MediaConfig
from media.turn import ice_servers, mint_credential, turn_password


def test_username_is_expiry_colon_participant_and_password_is_base64_hmac_sha1() -> None:
    cred = mint_credential("s3cret", "alice", ttl=600, now=1_000_000)
    assert cred.username == "1000600:alice"
    assert cred.expires_at == 1_000_600
    expected = base64.b64encode(
        hmac.new(b"s3cret", b"1000600:alice", hashlib.sha1).digest()
    ).decode()
    assert cred.password == expected


def test_password_matches_coturn_reference_value() -> None:
    # Value computed with:
    #   echo -n "1433895918:user" | openssl dgst -binary -sha1 -hmac secret | base64
    assert (
        turn_password("secret", "1433895918:user")
        == base64.b64encode(hmac.new(b"secret", b"1433895918:user", hashlib.sha1).digest()).decode()
    )


def test_a_participant_id_with_a_colon_is_refused() -> None:
    with pytest.raises(ValueError):
        mint_credential("s", "a:b", ttl=60)


def test_no_secret_or_bad_ttl_is_refused() -> None:
    with pytest.raises(ValueError):
        mint_credential("", "a", ttl=60)
    with pytest.raises(ValueError):
        mint_credential("s", "a", ttl=0)


def test_ice_servers_lists_stun_without_and_turn_with_credentials() -> None:
    servers = ice_servers(
        participant_id="bob",
        stun_urls=["stun:x:3478"],
        turn_urls=["turn:x:3478"],
        secret="k",
        ttl=60,
        now=100,
    )
    assert servers[0] == {"urls": ["stun:x:3478"]}
    assert servers[1]["username"] == "160:bob"
    assert servers[1]["credential"] == turn_password("k", "160:bob")


def test_without_a_secret_no_turn_server_is_handed_out() -> None:
    assert (
        ice_servers(participant_id="a", stun_urls=[], turn_urls=["turn:x"], secret=None, ttl=60)
        == []
    )


async def test_sfu_client_config_asks_for_relay_only_when_configured() -> None:
    from media.sfu import SFU

    async def send(session_id: str, participant_id: str, message: dict[str, Any]) -> None:
        return None

    sfu = SFU(send, None, MediaConfig(turn_urls=["turn:t"], turn_secret="k", relay_only=True))
    cfg = sfu.client_config("p1")
    assert cfg["iceTransportPolicy"] == "relay"
    servers = cfg["iceServers"]
    assert isinstance(servers, list) and servers[0]["username"].endswith(":p1")
