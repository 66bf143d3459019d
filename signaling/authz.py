"""Who may use what: every HTTP route and every Socket.IO event of every namespace, listed
once.

This module holds the core's rows (the room, cases, the office, the client's pages) and
the vocabulary every row uses (kinds of caller, objects, ``Rule``). Each feature package
states its own rows in ``<package>/authz.py`` (``ROWS``: agreements, experts,
transcription) and the composition root gathers them into ``HTTP``, ``EVENTS`` and
``NAMESPACES`` with ``register`` when it builds the app, as it gathers their events.

The handlers enforce these rules (grants, office scoping, caucus membership); this table
states them in one place, and ``tests/signaling/test_authorization_table.py`` walks every
route and event for every kind of caller, with real objects (a real draft, evidence item,
expert call, signing round, utterance; of this session, of a caucus, of another session),
and checks that the server answers as written here. A "not found" for an object that
exists counts as a refusal. A route or event missing from the table fails that test, so
nothing ships unlisted.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

# Kinds of HTTP caller (a bearer token, or none).
ANON = "anonymous"
MEDIATOR = "mediator"
CLERK = "clerk"
ADMIN = "admin"
EXPERT_USER = "expert"
OTHER_OFFICE = "other_office_mediator"
LOGGED_OUT = "logged_out_mediator"
"""A mediator's token after that login logged out."""
HTTP_CALLERS = (ANON, MEDIATOR, CLERK, ADMIN, EXPERT_USER, OTHER_OFFICE, LOGGED_OUT)

# Kinds of seat (a Socket.IO connection in the room namespace; the seats that hold a
# resume token also call the evidence routes with ``X-Seat-Token``). The session is live
# and has two caucuses: K1 (a party of side A and a scoped expert) and K2 (side B).
S_MEDIATOR = "mediator_in_room"
S_CLERK = "clerk_in_room"
S_PARTY = "party_in_room"
"""Side A, in the joint session."""
S_CAUCUS_PARTY = "party_in_caucus"
"""Side A, in caucus K1 with the mediator's consultation."""
S_OTHER_SIDE = "party_of_the_other_side"
"""Side B, in caucus K2."""
S_LOBBY = "party_in_lobby"
S_OBSERVER = "hidden_observer"
S_SCOPED_EXPERT = "scoped_expert"
"""An expert called into caucus K1 only (``Grants.caucus_scope``)."""
S_REMOVED = "removed_participant"
S_ENDED = "participant_of_ended_session"
"""A party of another session of the office that the mediator has ended."""
S_LOGGED_OUT = "logged_out_mediator_socket"
"""A co-mediator's socket, opened with a login that then logged out."""
SOCKET_CALLERS = (S_MEDIATOR, S_CLERK, S_PARTY, S_CAUCUS_PARTY, S_OTHER_SIDE, S_LOBBY,
                  S_OBSERVER, S_SCOPED_EXPERT, S_REMOVED, S_ENDED, S_LOGGED_OUT)
SEAT_TOKEN_CALLERS = (S_PARTY, S_CAUCUS_PARTY, S_OTHER_SIDE, S_LOBBY, S_OBSERVER,
                      S_SCOPED_EXPERT, S_REMOVED, S_ENDED)
"""Seats joined by invitation or expert grant: they hold a resume token (X-Seat-Token)."""

STAFF_READ = frozenset({MEDIATOR, CLERK, ADMIN})
MANAGERS = frozenset({MEDIATOR, ADMIN})
LOGGED_IN = frozenset({MEDIATOR, CLERK, ADMIN, EXPERT_USER, OTHER_OFFICE})
EVERYONE = frozenset(HTTP_CALLERS)
NOBODY: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Rule:
    """Who may call, and on what condition beyond their role."""

    allowed: frozenset[str]
    """Caller kinds that succeed (with the objects of their own space)."""
    condition: str
    """The condition in words (office, session, caucus, scope)."""
    objects: Mapping[str, frozenset[str]] = field(default_factory=dict)
    """When the request names an object: who succeeds, per object the walk uses
    (see ``OBJECTS``). Overrides ``allowed``."""


OBJECTS = {
    "joint_draft": "a draft written in the joint session",
    "caucus_draft": "a draft written in caucus K1",
    "other_session_draft": "a draft of another session of the same office",
    "joint_evidence": "evidence shown in the joint session",
    "caucus_evidence": "evidence uploaded in caucus K1 by its party, not shown",
    "other_session_evidence": "evidence of another session, shown there",
    "call": "the expert call of this session (scoped to K1)",
    "other_session_call": "an expert call of another session",
    "ceremony": "the signing round of this session's record (the mediator, the clerk and "
                "the parties in the joint session and K2 sign)",
    "own_session": "the caller's own session",
    "other_session": "another session of the same office",
    "joint_utterance": "an utterance of the joint session",
    "caucus_utterance": "an utterance spoken in a caucus",
    "application_case": "a case of the office opened by a public application",
}
"""The real objects the authorization walk names, and what each is."""

OWN_OFFICE = "objects of the caller's own office only; another office's ids answer 404"

IN_ROOM = frozenset({S_MEDIATOR, S_CLERK, S_PARTY, S_CAUCUS_PARTY, S_OTHER_SIDE,
                     S_SCOPED_EXPERT})
"""Admitted and visible, with the chat grant."""
ADMITTED_SEATS = IN_ROOM | {S_OBSERVER}
SEATED = ADMITTED_SEATS | {S_LOBBY}
ADMIN_IN_ROOM = frozenset({S_MEDIATOR})
K1_READERS = frozenset({S_MEDIATOR, S_CAUCUS_PARTY, S_SCOPED_EXPERT})
"""Who reads what was written in caucus K1: its members and the mediator."""

HTTP: dict[tuple[str, str], Rule] = {
    ("GET", "/healthz"): Rule(EVERYONE, "none"),
    ("POST", "/api/v1/auth/login"): Rule(EVERYONE, "valid credentials; lockout after failures"),
    ("POST", "/api/v1/auth/logout"): Rule(LOGGED_IN, "own login"),
    ("GET", "/api/v1/auth/me"): Rule(LOGGED_IN, "own login"),
    ("POST", "/api/v1/cases"): Rule(MANAGERS | {OTHER_OFFICE}, "creates in the caller's office"),
    ("GET", "/api/v1/cases"): Rule(STAFF_READ | {OTHER_OFFICE}, "lists the caller's office only"),
    ("GET", "/api/v1/cases/{case_id}"): Rule(STAFF_READ, OWN_OFFICE),
    ("POST", "/api/v1/cases/{case_id}/moves"): Rule(
        MANAGERS, OWN_OFFICE + "; the case's mediator (or any mediator of the office while it "
        "has none: it becomes theirs) or an administrator; clerks read only. Moves outside "
        "signaling/case_states.py answer 409 illegal_transition"),
    ("GET", "/api/v1/cases/{case_id}/log"): Rule(STAFF_READ, OWN_OFFICE),
    ("GET", "/api/v1/cases/{case_id}/sides"): Rule(STAFF_READ, OWN_OFFICE),
    ("POST", "/api/v1/cases/{case_id}/sides"): Rule(
        MANAGERS, OWN_OFFICE + "; the case's mediator (or any mediator while it has none) or "
        "an administrator"),
    ("PATCH", "/api/v1/cases/{case_id}/sides/{key}"): Rule(
        MANAGERS, OWN_OFFICE + "; the case's mediator (or any mediator while it has none) or "
        "an administrator"),
    # signaling/intake.py: the public application page (rate-limited, no login), the
    # applicant's status (only with the link's token), an invitee's "cannot come", intake.
    ("GET", "/api/v1/public/offices/{office_id}/apply"): Rule(EVERYONE, "none: public"),
    ("POST", "/api/v1/public/offices/{office_id}/phone-code"): Rule(
        EVERYONE, "public; limited per address and per phone"),
    ("POST", "/api/v1/public/offices/{office_id}/applications"): Rule(
        EVERYONE, "public; a valid phone code; limited per address and per phone"),
    ("GET", "/api/v1/public/applications/{reference}"): Rule(
        NOBODY, "only with the status link's token (X-Application-Token); wrong tokens are "
        "counted per address"),
    ("POST", "/api/v1/public/invites/decline"): Rule(
        NOBODY, "only with a valid invitation token; wrong tokens are counted per address"),
    ("POST", "/api/v1/cases/{case_id}/intake"): Rule(
        MANAGERS, OWN_OFFICE + "; the case's mediator (or any mediator while it has none) or "
        "an administrator"),
    ("POST", "/api/v1/cases/{case_id}/assign"): Rule(
        MANAGERS, OWN_OFFICE + "; the case's mediator (or any mediator while it has none) or "
        "an administrator"),
    ("GET", "/api/v1/cases/{case_id}/application"): Rule(
        STAFF_READ, OWN_OFFICE + "; clerks see phone and ID numbers masked",
        objects={"application_case": STAFF_READ}),
    ("GET", "/api/v1/application-attachments/{attachment_id}"): Rule(
        MANAGERS, OWN_OFFICE),
    ("GET", "/api/v1/office/areas"): Rule(STAFF_READ | {OTHER_OFFICE},
                                          "the caller's office's areas only"),
    ("PUT", "/api/v1/office/areas"): Rule(frozenset({ADMIN}), "the caller's office only"),
    # signaling/dispute_types.py: the office's dispute types. Office heads (role "head") may
    # change them too; they are walked in tests/signaling/test_dispute_types.py.
    ("GET", "/api/v1/public/offices/{office_id}/dispute-types"): Rule(EVERYONE, "none: public"),
    ("GET", "/api/v1/office/dispute-types"): Rule(STAFF_READ | {OTHER_OFFICE},
                                                  "the caller's office's types only"),
    ("POST", "/api/v1/office/dispute-types"): Rule(frozenset({ADMIN}),
                                                   "added to the caller's office's list"),
    ("PATCH", "/api/v1/office/dispute-types/{type_id}"): Rule(
        frozenset({ADMIN}), OWN_OFFICE + " (or a default the office still reads)"),
    # signaling/return_visits.py
    ("PUT", "/api/v1/cases/{case_id}/return-visit"): Rule(
        MANAGERS, OWN_OFFICE + "; the case's mediator or an administrator"),
    ("POST", "/api/v1/cases/{case_id}/return-visits"): Rule(
        MANAGERS, OWN_OFFICE + "; the case's mediator or an administrator"),
    ("GET", "/api/v1/cases/{case_id}/return-visits"): Rule(STAFF_READ, OWN_OFFICE),
    ("GET", "/api/v1/agenda"): Rule(STAFF_READ | {OTHER_OFFICE},
                                    "the caller's own office; a mediator's own cases"),
    ("POST", "/api/v1/cases/{case_id}/schedule"): Rule(
        MANAGERS, OWN_OFFICE + "; the case's mediator (or any mediator while it has none) or "
        "an administrator"),
    ("POST", "/api/v1/cases/{case_id}/sessions"): Rule(MANAGERS, OWN_OFFICE),
    ("GET", "/api/v1/cases/{case_id}/sessions"): Rule(STAFF_READ, OWN_OFFICE),
    ("GET", "/api/v1/sessions/{session_id}"): Rule(STAFF_READ, OWN_OFFICE),
    ("GET", "/api/v1/sessions/{session_id}/events"): Rule(
        STAFF_READ, OWN_OFFICE + "; clerks read the joint record only (no caucus content)"),
    ("POST", "/api/v1/sessions/{session_id}/invites"): Rule(MANAGERS, OWN_OFFICE),
    ("GET", "/api/v1/sessions/{session_id}/invites"): Rule(STAFF_READ, OWN_OFFICE),
    ("POST", "/api/v1/invites/{invite_id}/revoke"): Rule(MANAGERS, OWN_OFFICE),
    ("POST", "/api/v1/sessions/{session_id}/evidence"): Rule(
        STAFF_READ, OWN_OFFICE + "; or a participant admitted to that live session "
        "(X-Seat-Token)", objects={
            "own_session": STAFF_READ | ADMITTED_SEATS,
            "other_session": STAFF_READ}),
    ("GET", "/api/v1/evidence/{evidence_id}"): Rule(
        STAFF_READ, OWN_OFFICE + "; clerks only what was shown in the joint session; or, in a "
        "live session, its uploader and members of a space it was shown in, while there",
        objects={
            "joint_evidence": STAFF_READ | {S_PARTY, S_OBSERVER},
            "caucus_evidence": MANAGERS | {S_CAUCUS_PARTY},
            "other_session_evidence": STAFF_READ}),
    # signaling/api/office.py: the dashboard, the register, the administrator's console.
    # Office heads (role "head") read the statistics and the register of their own office
    # only; they are walked in tests/signaling/test_office.py, not here.
    ("GET", "/api/v1/statistics"): Rule(
        frozenset({ADMIN}), "an office head their own office; an administrator any office or "
        "all; mediators, clerks and experts refused"),
    ("GET", "/api/v1/register.csv"): Rule(
        frozenset({ADMIN, CLERK}), "a clerk or head their own office (the head sees parties "
        "masked); an administrator any office (parties masked)"),
    ("GET", "/api/v1/register.xlsx"): Rule(frozenset({ADMIN, CLERK}), "as register.csv"),
    ("GET", "/api/v1/staff"): Rule(frozenset({ADMIN}), "the caller's office only"),
    ("POST", "/api/v1/staff"): Rule(frozenset({ADMIN}), "created in the caller's office"),
    ("PATCH", "/api/v1/staff/{user_id}"): Rule(frozenset({ADMIN}), OWN_OFFICE),
    ("POST", "/api/v1/staff/{user_id}/password"): Rule(frozenset({ADMIN}), OWN_OFFICE),
    ("GET", "/api/v1/retention"): Rule(frozenset({ADMIN}), "none beyond the role"),
    # signaling/offices.py: the offices themselves. An office head (role "head") may change
    # their own office's address and phone only (PATCH /api/v1/office), walked in
    # tests/signaling/test_offices.py.
    ("GET", "/api/v1/offices"): Rule(frozenset({ADMIN}), "every office"),
    ("POST", "/api/v1/offices"): Rule(frozenset({ADMIN}), "none beyond the role"),
    ("PATCH", "/api/v1/offices/{office_id}"): Rule(frozenset({ADMIN}), "any office"),
    ("GET", "/api/v1/office"): Rule(LOGGED_IN, "the caller's own office"),
    ("PATCH", "/api/v1/office"): Rule(
        frozenset({ADMIN}), "the caller's own office; an office head the address and phone "
        "only; mediators, clerks and experts refused"),
}

ENGINE_IO = ("the Engine.IO transport of every namespace: who may join is decided at connect "
             "per namespace (ROOM_CONNECT here, CONSOLE_CONNECT in experts/authz.py)")
WEB: dict[tuple[str, str], Rule] = {
    # signaling/web.py: the browser client's pages and bundles hold no data; every
    # page asks the API, which checks the caller.
    **{("GET", page): Rule(EVERYONE, "none: the client's page") for page in
       ("/", "/join", "/mediator", "/expert", "/clerk", "/login", "/copy", "/office",
        "/apply/{office_id}", "/apply/{office_id}/poster", "/application", "/decline")},
    ("GET", "/assets/{name}"): Rule(EVERYONE, "none: a built bundle (hashed name)"),
    ("GET", "/assets/pdf/{kind}/{name}"): Rule(
        EVERYONE, "none: the PDF viewer's character maps and standard fonts"),
    ("GET", "/api/openapi.json"): Rule(EVERYONE, "none: the API's description"),
    ("GET", "/metrics"): Rule(frozenset({ADMIN}),
                              "an administrator's login, or the scraper's "
                              "TIAOJIE_METRICS_TOKEN"),
    ("GET", "/socket.io/"): Rule(EVERYONE, ENGINE_IO),
    ("POST", "/socket.io/"): Rule(EVERYONE, ENGINE_IO),
    ("OPTIONS", "/socket.io/"): Rule(EVERYONE, ENGINE_IO),
}
"""Routes outside the API router. HEAD answers as GET does."""

EVENTS: dict[str, Rule] = {
    "admit": Rule(ADMIN_IN_ROOM, "the session's mediator"),
    "deny": Rule(ADMIN_IN_ROOM, "the session's mediator"),
    "send_back": Rule(ADMIN_IN_ROOM, "the session's mediator"),
    "remove": Rule(ADMIN_IN_ROOM, "the session's mediator"),
    "mute": Rule(ADMIN_IN_ROOM, "the session's mediator"),
    "request_mute": Rule(ADMIN_IN_ROOM, "the session's mediator"),
    "shared_device": Rule(ADMIN_IN_ROOM, "the session's mediator"),
    "voice_enroll": Rule(ADMIN_IN_ROOM, "the session's mediator, or the shared seat itself "
                         "(own seat only); a seat the mediator marked shared"),
    "caucus_create": Rule(ADMIN_IN_ROOM, "the session's mediator"),
    "caucus_move": Rule(ADMIN_IN_ROOM, "the session's mediator; scoped participants stay in scope"),
    "caucus_end": Rule(ADMIN_IN_ROOM, "the session's mediator"),
    "caucus_extend": Rule(ADMIN_IN_ROOM, "the session's mediator; a caucus of this session"),
    "interpreter_attach": Rule(ADMIN_IN_ROOM, "the session's mediator; an interpreter's seat "
                               "of this session, attached to a visible non-mediator seat"),
    "caucus_return_all": Rule(ADMIN_IN_ROOM, "the session's mediator"),
    "end_session": Rule(ADMIN_IN_ROOM, "the session's mediator"),
    "recording": Rule(ADMIN_IN_ROOM, "the session's mediator; off only before any audio "
                      "was archived (recording_started)"),
    "lobby_message": Rule(ADMIN_IN_ROOM, "the session's mediator; reaches the people waiting "
                          "in this session's lobby only"),
    "chat": Rule(IN_ROOM, "admitted, with the chat grant; reaches the sender's space only"),
    "hand": Rule(IN_ROOM, "admitted and visible; reaches the sender's space only"),
    "signal": Rule(ADMITTED_SEATS,
                   "admitted to a live session, with a publish or subscribe grant; media "
                   "follows routing"),
    "state": Rule(SEATED, "own seat only; TURN credentials only once admitted"),
    "leave": Rule(SEATED, "own seat only"),
    "evidence_show": Rule(ADMIN_IN_ROOM, "the session's mediator; shown to their space only",
                          objects={"joint_evidence": ADMIN_IN_ROOM,
                                   "caucus_evidence": ADMIN_IN_ROOM,
                                   "other_session_evidence": NOBODY}),
    "exhibit_page": Rule(ADMIN_IN_ROOM, "the session's mediator, for an exhibit shown to the "
                         "space they are in (else evidence_not_found); reaches that space "
                         "only. The walk's evidence_show has shown K1's upload in the joint "
                         "session by then; tests/signaling/test_screenshare.py proves the "
                         "refusal of one not shown there",
                         objects={"joint_evidence": ADMIN_IN_ROOM,
                                  "caucus_evidence": ADMIN_IN_ROOM,
                                  "other_session_evidence": NOBODY}),
    # signaling/screenshare.py
    "share_grant": Rule(ADMIN_IN_ROOM, "the session's mediator; a party, agent or expert in "
                        "the room"),
    "screen_share": Rule(ADMIN_IN_ROOM, "the mediator, or a seat the mediator allowed "
                         "(share_grant); routed to the sharer's space only"),
    "audio_only": Rule(ADMITTED_SEATS, "own seat; another seat's only for the mediator"),
}
"""The room namespace ("/"). Seats of an ended session, removed seats and sockets of a
login that logged out are refused everything (the server also disconnects them)."""

ROOM_CONNECT = ("an unexpired, unrevoked invitation with a name and consent; a resume token "
                "of a seat that was not denied or removed, in a session that has not ended; "
                "or a staff login of the session's office (mediator, administrator, clerk)")

NAMESPACES: dict[str, dict[str, Rule]] = {"/": EVENTS}
"""Every Socket.IO namespace's events: the room's ("/", which packages add to) and each
namespace a package brings (experts' console, "/experts")."""


@dataclass(frozen=True)
class Rows:
    """A feature package's part of the table, declared in ``<package>/authz.py`` as
    ``ROWS`` and gathered by the composition root (``signaling/app.py``), since the core
    imports no feature."""

    http: Mapping[tuple[str, str], Rule] = field(default_factory=dict)
    """Its API routes (they join ``HTTP``)."""
    events: Mapping[str, Rule] = field(default_factory=dict)
    """The events it adds to the room namespace (they join ``EVENTS``)."""
    namespaces: Mapping[str, Mapping[str, Rule]] = field(default_factory=dict)
    """The Socket.IO namespaces it owns, with their events."""


OWNERS: dict[str, str] = {}
"""Which package listed each row gathered so far (``"HTTP GET /api/v1/experts"``,
``"/ draft_get"``, ``"/experts accept"``): the core's rows are not listed."""


def register(package: str, rows: Rows) -> None:
    """Add ``package``'s rows to the table. Building the app again registers the same rows
    again, which changes nothing; a row that another package or the core already states
    differently is a mistake and raises ``ValueError``."""
    parts: list[tuple[str, dict[Any, Rule], Mapping[Any, Rule]]] = [
        ("HTTP", HTTP, rows.http), ("/", EVENTS, rows.events)]
    for ns, events in rows.namespaces.items():
        parts.append((ns, NAMESPACES.setdefault(ns, {}), events))
    for where, table, new in parts:
        for key, rule in new.items():
            name = f"{where} {' '.join(key) if isinstance(key, tuple) else key}"
            if key in table and (table[key] != rule or OWNERS.get(name) != package):
                raise ValueError(f"{package} lists {name}, which "
                                 f"{OWNERS.get(name, 'the core')} already states")
        for key, rule in new.items():
            table[key] = rule
            OWNERS[f"{where} {' '.join(key) if isinstance(key, tuple) else key}"] = package

# Answers that mean "refused for who you are" (as opposed to bad input or a conflict).
REFUSAL_CODES = frozenset({
    "login_required", "forbidden", "role_not_allowed", "not_room_admin", "not_in_room",
    "chat_not_allowed", "media_not_allowed", "outside_scope", "not_joined", "csrf_failed",
    "case_not_found", "session_not_found", "invite_not_found", "not_found",
    "utterance_not_found", "evidence_not_found", "seat_invalid", "document_not_found",
    "draft_not_found", "not_a_signer", "not_expert", "expert_not_found", "call_not_found",
    "not_your_call", "session_ended", "seat_removed", "seat_denied", "resume_invalid",
    "participant_not_found", "not_a_party", "not_your_party", "outside_space",
    "not_your_session", "not_your_case", "template_not_found", "share_not_granted",
})
"""The walk names only objects that exist, so a "not found" among these is a refusal of
the caller (the server hides what they may not see), never a bad id."""
