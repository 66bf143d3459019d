"""Screen sharing, audio-only seats and exhibits followed page by page: who may, and
where it goes (routes are read from the SFU's router, as the privacy walk does)."""

from __future__ import annotations

from pathlib import Path

import aiohttp

from media.routing import Route
from tests.signaling.harness import Server, running_server, settled
from tests.signaling.test_join_flow import full_room

PDF = b"%PDF-1.4\n" + b"0" * 200 + b"\n%%EOF\n"
OFFER = (
    "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=ice-ufrag:abcd\r\n"
    "a=ice-pwd:abcdefghijklmnopqrstuvwx\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\n"
    "a=mid:0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:1\r\n"
)


def routes(srv: Server, session_id: str) -> set[Route]:
    return set(srv.services.media.sfu.routers[session_id].active_routes)


async def test_a_share_needs_the_grant_and_stays_in_its_caucus(tmp_path: Path) -> None:
    async with (
        aiohttp.ClientSession() as http,
        running_server(f"sqlite+aiosqlite:///{tmp_path}/t.db", tmp_path, media=True) as srv,
    ):
        room = await full_room(srv, http)
        med, a, b = room.med, room.a, room.b
        # Without the mediator's grant a party can neither share nor publish a screen.
        assert a.welcome["grants"]["can_publish_sources"] == ["audio", "video"]
        ack = await a.call("screen_share", {"on": True})
        assert ack["error"]["code"] == "share_not_granted"
        for msg in (
            {"type": "offer", "sdp": OFFER, "sources": {"0": "video", "1": "screen"}},
            {"type": "offer", "sdp": OFFER},
        ):
            ack = await a.call("signal", msg)
            assert ack["error"]["code"] == "share_not_granted", ack
        # Only the mediator grants; a clerk-less room: the other party is refused.
        ack = await b.call("share_grant", {"participant_id": a.pid, "allowed": True})
        assert ack["error"]["code"] == "not_room_admin"
        assert (await med.call("share_grant", {"participant_id": a.pid, "allowed": True}))["ok"]
        assert (await a.wait_for("share_grant"))["allowed"] is True
        layout = await med.wait_for(
            "layout",
            lambda d: any(
                p["participant_id"] == a.pid and p["can_share"] for p in d["participants"]
            ),
        )
        assert layout
        # In a caucus of A and the mediator, A's share reaches the mediator and not B.
        cid = (await med.call("caucus_create", {"name": "甲方", "members": [a.pid, med.pid]}))[
            "caucus_id"
        ]
        assert (await a.call("screen_share", {"on": True}))["ok"]
        got = routes(srv, room.session_id)
        assert Route(a.pid, "screen", med.pid) in got
        assert not [r for r in got if r.source == "screen" and r.subscriber_id == b.pid]
        await settled(b)
        for lay in b.received("layout"):  # B's layout never shows the caucus' members
            assert all(
                p["participant_id"] != a.pid or p["caucus_id"] is None or p["caucus_id"] == cid
                for p in lay["participants"]
            )
        # Revoking stops the share at once.
        assert (await med.call("share_grant", {"participant_id": a.pid, "allowed": False}))["ok"]
        assert (await a.wait_for("share_grant", lambda d: d["stopped"]))["allowed"] is False
        assert not [r for r in routes(srv, room.session_id) if r.source == "screen"]
        # The mediator shares by right; a clerk never is granted.
        assert (await med.call("screen_share", {"on": True}))["ok"]
        assert Route(med.pid, "screen", a.pid) in routes(srv, room.session_id)
        assert (await med.call("screen_share", {"on": False}))["ok"]
        assert not [r for r in routes(srv, room.session_id) if r.source == "screen"]


async def test_audio_only_pauses_video_both_ways(tmp_path: Path) -> None:
    async with (
        aiohttp.ClientSession() as http,
        running_server(f"sqlite+aiosqlite:///{tmp_path}/t.db", tmp_path, media=True) as srv,
    ):
        room = await full_room(srv, http)
        med, a, b = room.med, room.a, room.b
        assert Route(a.pid, "video", b.pid) in routes(srv, room.session_id)
        assert (await a.call("audio_only", {"on": True}))["ok"]
        got = routes(srv, room.session_id)
        assert not [
            r for r in got if r.source != "audio" and a.pid in (r.publisher_id, r.subscriber_id)
        ]
        assert Route(a.pid, "audio", b.pid) in got and Route(b.pid, "audio", a.pid) in got
        assert Route(b.pid, "video", med.pid) in got
        lay = await b.wait_for(
            "layout",
            lambda d: any(
                p["participant_id"] == a.pid and p["audio_only"] for p in d["participants"]
            ),
        )
        assert lay
        # Only the mediator switches someone else; the party is told.
        ack = await a.call("audio_only", {"on": True, "participant_id": b.pid})
        assert ack["error"]["code"] == "not_room_admin"
        assert (await med.call("audio_only", {"on": True, "participant_id": b.pid}))["ok"]
        assert (await b.wait_for("audio_only"))["on"] is True
        assert (await a.call("audio_only", {"on": False}))["ok"]
        assert Route(a.pid, "video", med.pid) in routes(srv, room.session_id)


async def test_exhibit_pages_follow_the_presenter_in_their_space_only(tmp_path: Path) -> None:
    async with (
        aiohttp.ClientSession() as http,
        running_server(f"sqlite+aiosqlite:///{tmp_path}/t.db", tmp_path) as srv,
    ):
        room = await full_room(srv, http)
        med, a, b = room.med, room.a, room.b
        # A's upload reaches the mediator over the socket at once, and nobody else.
        async with http.post(
            srv.url + f"/api/v1/sessions/{room.session_id}/evidence?title=合同",
            data=PDF,
            headers={"X-Seat-Token": a.welcome["resume_token"]},
        ) as r:
            assert r.status == 201
            ev = await r.json()
        pushed = await med.wait_for("evidence_uploaded")
        assert pushed["id"] == ev["id"] and pushed["content_type"] == "application/pdf"
        # Not shown yet: nobody may turn its pages.
        ack = await med.call("exhibit_page", {"evidence_id": ev["id"], "page": 2})
        assert ack["error"]["code"] == "evidence_not_found"
        # Shown in a caucus of the mediator and B: pages reach B, never A.
        cid = (await med.call("caucus_create", {"name": "乙方", "members": [b.pid, med.pid]}))[
            "caucus_id"
        ]
        assert cid
        assert (await med.call("evidence_show", {"evidence_id": ev["id"]}))["ok"]
        assert (await med.call("exhibit_page", {"evidence_id": ev["id"], "page": 3}))["ok"]
        assert (await b.wait_for("exhibit_page"))["page"] == 3
        # A party cannot move the presenter's page; page numbers are checked.
        ack = await b.call("exhibit_page", {"evidence_id": ev["id"], "page": 1})
        assert ack["error"]["code"] == "not_room_admin"
        ack = await med.call("exhibit_page", {"evidence_id": ev["id"], "page": 0})
        assert ack["error"]["code"] == "invalid_payload"
        # Back in the joint session the caucus' exhibit is not there to page through.
        assert (await med.call("caucus_move", {"participant_id": med.pid, "caucus_id": None}))["ok"]
        ack = await med.call("exhibit_page", {"evidence_id": ev["id"], "page": 4})
        assert ack["error"]["code"] == "evidence_not_found"
        await settled(a, b)
        assert not a.received("exhibit_page") and not a.received("evidence")
        assert not a.received("evidence_uploaded") and not b.received("evidence_uploaded")


async def test_an_expert_call_checks_the_named_expert_scope_and_language(tmp_path: Path) -> None:
    from tests.signaling.harness import login, make_user

    async with (
        aiohttp.ClientSession() as http,
        running_server(f"sqlite+aiosqlite:///{tmp_path}/t.db", tmp_path) as srv,
    ):
        room = await full_room(srv, http)
        await make_user(srv, "adm", "admin")
        await make_user(srv, "exp", "expert")
        adm, exp = await login(srv, http, "adm"), await login(srv, http, "exp")
        st, prof = await adm.call(
            "POST", "/api/v1/experts", {"user_id": exp.user["id"], "domains": ["property"]}
        )
        assert st == 201, prof
        med = room.med
        cases = [
            ({"domain": "legal", "expert_id": "0" * 32}, "expert_not_found"),
            ({"domain": "legal", "expert_id": prof["id"]}, "expert_domain_mismatch"),
            ({"domain": "property", "language": "fr"}, "invalid_payload"),
            ({"domain": "property", "scope": "caucus"}, "caucus_not_found"),
        ]
        for body, code in cases:
            ack = await med.call("expert_call", body)
            assert not ack["ok"] and ack["error"]["code"] == code, (body, ack)
        ack = await med.call(
            "expert_call",
            {"domain": "property", "expert_id": prof["id"], "scope": "joint", "language": "en"},
        )
        assert ack["ok"], ack
        st, calls = await room.staff.call("GET", f"/api/v1/sessions/{room.session_id}/expert-calls")
        assert st == 200
        c = calls["items"][0]
        assert (c["named_expert_id"], c["language"], c["scope"]) == (prof["id"], "en", "joint")
        # A party cannot call anyone.
        ack = await room.a.call("expert_call", {"domain": "property"})
        assert ack["error"]["code"] == "not_room_admin"
