"""Who may use what: every HTTP route and every Socket.IO event, listed once.

The handlers enforce these rules (grants, office scoping, caucus membership); this table
states them in one place, and ``tests/signaling/test_authorization_table.py`` walks every
route and event for every kind of caller and checks that the server answers as written
here. A route or event missing from the table fails that test, so nothing ships unlisted.
"""

from __future__ import annotations

from dataclasses import dataclass

# Kinds of HTTP caller.
ANON = "anonymous"
MEDIATOR = "mediator"
CLERK = "clerk"
ADMIN = "admin"
EXPERT_USER = "expert"
OTHER_OFFICE = "other_office_mediator"
HTTP_CALLERS = (ANON, MEDIATOR, CLERK, ADMIN, EXPERT_USER, OTHER_OFFICE)

# Kinds of Socket.IO caller (a seat in a session).
S_MEDIATOR = "mediator_in_room"
S_PARTY = "party_in_room"
S_LOBBY = "party_in_lobby"
S_CLERK = "clerk_in_room"
S_OBSERVER = "hidden_observer"
SOCKET_CALLERS = (S_MEDIATOR, S_PARTY, S_LOBBY, S_CLERK, S_OBSERVER)

STAFF_READ = frozenset({MEDIATOR, CLERK, ADMIN})
MANAGERS = frozenset({MEDIATOR, ADMIN})
LOGGED_IN = frozenset({MEDIATOR, CLERK, ADMIN, EXPERT_USER, OTHER_OFFICE})
EVERYONE = frozenset(HTTP_CALLERS)


@dataclass(frozen=True)
class Rule:
    """Who may call, and on what condition beyond their role."""

    allowed: frozenset[str]
    """Caller kinds that succeed."""
    condition: str
    """The condition in words (office, session, caucus, scope)."""


OWN_OFFICE = "objects of the caller's own office only; another office's ids answer 404"

HTTP: dict[tuple[str, str], Rule] = {
    ("GET", "/healthz"): Rule(EVERYONE, "none"),
    ("POST", "/api/v1/auth/login"): Rule(EVERYONE, "valid credentials; lockout after failures"),
    ("POST", "/api/v1/auth/logout"): Rule(LOGGED_IN, "own login"),
    ("GET", "/api/v1/auth/me"): Rule(LOGGED_IN, "own login"),
    ("POST", "/api/v1/cases"): Rule(MANAGERS | {OTHER_OFFICE}, "creates in the caller's office"),
    ("GET", "/api/v1/cases"): Rule(STAFF_READ | {OTHER_OFFICE}, "lists the caller's office only"),
    ("GET", "/api/v1/cases/{case_id}"): Rule(STAFF_READ, OWN_OFFICE),
    ("POST", "/api/v1/cases/{case_id}/sessions"): Rule(MANAGERS, OWN_OFFICE),
    ("GET", "/api/v1/cases/{case_id}/sessions"): Rule(STAFF_READ, OWN_OFFICE),
    ("GET", "/api/v1/sessions/{session_id}"): Rule(STAFF_READ, OWN_OFFICE),
    ("GET", "/api/v1/sessions/{session_id}/events"): Rule(
        STAFF_READ, OWN_OFFICE + "; clerks read the joint record only (no caucus content)"),
    ("POST", "/api/v1/sessions/{session_id}/invites"): Rule(MANAGERS, OWN_OFFICE),
    ("GET", "/api/v1/sessions/{session_id}/invites"): Rule(STAFF_READ, OWN_OFFICE),
    ("POST", "/api/v1/invites/{invite_id}/revoke"): Rule(MANAGERS, OWN_OFFICE),
    ("POST", "/api/v1/sessions/{session_id}/evidence"): Rule(
        STAFF_READ, OWN_OFFICE + "; or a participant admitted to that session (X-Seat-Token)"),
    ("GET", "/api/v1/evidence/{evidence_id}"): Rule(
        STAFF_READ, OWN_OFFICE + "; or its uploader, or members of a space it was shown in"),
    # agreements/http.py
    ("GET", "/api/v1/cases/{case_id}/documents"): Rule(STAFF_READ, OWN_OFFICE),
    ("GET", "/api/v1/documents/{document_id}/pdf"): Rule(STAFF_READ, OWN_OFFICE),
    ("GET", "/api/v1/documents/{document_id}/docx"): Rule(STAFF_READ, OWN_OFFICE),
    ("POST", "/api/v1/documents/verify"): Rule(
        STAFF_READ | {OTHER_OFFICE},
        "any office's staff; a file is linked to a stored document of the caller's office only"),
    ("GET", "/api/v1/templates"): Rule(STAFF_READ | {OTHER_OFFICE},
                                       "lists the caller's office only"),
    ("POST", "/api/v1/templates"): Rule(frozenset({ADMIN}), "stored for the caller's office"),
    ("GET", "/api/v1/drafts/{draft_id}/print-copy"): Rule(
        STAFF_READ, OWN_OFFICE + "; clerks never get a caucus draft"),
    # experts/http.py
    ("GET", "/api/v1/expert-domains"): Rule(LOGGED_IN, "none"),
    ("GET", "/api/v1/experts"): Rule(STAFF_READ | {OTHER_OFFICE}, "lists the caller's office only"),
    ("POST", "/api/v1/experts"): Rule(frozenset({ADMIN}),
                                      "a user of the caller's office whose role is expert"),
    ("GET", "/api/v1/experts/me"): Rule(frozenset({EXPERT_USER}), "own profile"),
    ("PATCH", "/api/v1/experts/me"): Rule(frozenset({EXPERT_USER}),
                                          "own profile; not domains or active"),
    ("GET", "/api/v1/experts/{expert_id}"): Rule(STAFF_READ | {EXPERT_USER},
                                                 OWN_OFFICE + "; experts their own only"),
    ("PATCH", "/api/v1/experts/{expert_id}"): Rule(frozenset({ADMIN}), OWN_OFFICE),
    ("GET", "/api/v1/experts/{expert_id}/ledger"): Rule(
        frozenset({ADMIN, EXPERT_USER}), OWN_OFFICE + "; experts their own only"),
    ("GET", "/api/v1/experts/{expert_id}/ledger.csv"): Rule(
        frozenset({ADMIN, EXPERT_USER}), OWN_OFFICE + "; experts their own only"),
    ("GET", "/api/v1/expert-ledger.csv"): Rule(frozenset({ADMIN}), "the caller's office only"),
    ("GET", "/api/v1/sessions/{session_id}/expert-calls"): Rule(STAFF_READ, OWN_OFFICE),
    ("GET", "/api/v1/expert-calls/{call_id}"): Rule(STAFF_READ, OWN_OFFICE),
    ("POST", "/api/v1/expert-calls/{call_id}/rating"): Rule(
        MANAGERS, OWN_OFFICE + "; the calling mediator or an administrator; once"),
    # transcription/http.py
    ("GET", "/api/v1/sessions/{session_id}/transcript"): Rule(
        STAFF_READ, OWN_OFFICE + "; caucus utterances for mediators only"),
    ("GET", "/api/v1/sessions/{session_id}/transcript/export"): Rule(
        STAFF_READ, OWN_OFFICE + "; caucus utterances for mediators only"),
    ("PATCH", "/api/v1/utterances/{utterance_id}"): Rule(
        frozenset({MEDIATOR, CLERK}), OWN_OFFICE + "; caucus utterances for mediators only"),
    ("GET", "/api/v1/utterances/{utterance_id}/history"): Rule(
        frozenset({MEDIATOR, CLERK}), OWN_OFFICE),
}

ADMIN_IN_ROOM = frozenset({S_MEDIATOR})
READERS = "admitted and able to read the draft: a caucus draft for that caucus's members only"
IN_ROOM = frozenset({S_MEDIATOR, S_PARTY, S_CLERK})
SEATED = frozenset(SOCKET_CALLERS)

EVENTS: dict[str, Rule] = {
    "admit": Rule(ADMIN_IN_ROOM, "the session's mediator"),
    "deny": Rule(ADMIN_IN_ROOM, "the session's mediator"),
    "send_back": Rule(ADMIN_IN_ROOM, "the session's mediator"),
    "remove": Rule(ADMIN_IN_ROOM, "the session's mediator"),
    "mute": Rule(ADMIN_IN_ROOM, "the session's mediator"),
    "request_mute": Rule(ADMIN_IN_ROOM, "the session's mediator"),
    "shared_device": Rule(ADMIN_IN_ROOM, "the session's mediator"),
    "caucus_create": Rule(ADMIN_IN_ROOM, "the session's mediator"),
    "caucus_move": Rule(ADMIN_IN_ROOM, "the session's mediator; scoped participants stay in scope"),
    "caucus_end": Rule(ADMIN_IN_ROOM, "the session's mediator"),
    "caucus_return_all": Rule(ADMIN_IN_ROOM, "the session's mediator"),
    "end_session": Rule(ADMIN_IN_ROOM, "the session's mediator"),
    "chat": Rule(IN_ROOM, "admitted, with the chat grant; reaches the sender's space only"),
    "hand": Rule(IN_ROOM, "admitted and visible; reaches the sender's space only"),
    "signal": Rule(IN_ROOM | {S_OBSERVER},
                   "admitted, with a publish or subscribe grant; media follows routing"),
    "state": Rule(SEATED, "own seat only"),
    "leave": Rule(SEATED, "own seat only"),
    "evidence_show": Rule(ADMIN_IN_ROOM, "the session's mediator; shown to their space only"),
    # experts/
    "expert_call": Rule(ADMIN_IN_ROOM, "the session's mediator; rings the office's experts"),
    "expert_call_end": Rule(ADMIN_IN_ROOM, "the session's mediator; calls of this session only"),
    "expert_call_state": Rule(ADMIN_IN_ROOM,
                              "the session's mediator; calls of this session only"),
    # agreements/events.py
    "draft_create": Rule(ADMIN_IN_ROOM, "the session's mediator; the draft lives in their space"),
    "draft_edit": Rule(ADMIN_IN_ROOM, "the session's mediator; " + READERS),
    "draft_comment": Rule(IN_ROOM, READERS + "; with the chat grant"),
    "draft_get": Rule(IN_ROOM | {S_OBSERVER}, READERS),
    "draft_list": Rule(IN_ROOM | {S_OBSERVER}, "lists the drafts the caller can read"),
    "signing_open": Rule(ADMIN_IN_ROOM, "the session's mediator; signers must be present"),
    "signing_send_code": Rule(IN_ROOM | {S_OBSERVER}, "own seat in that ceremony only"),
    "sign": Rule(IN_ROOM | {S_OBSERVER}, "own seat in that ceremony only"),
    "draft_seal": Rule(ADMIN_IN_ROOM, "the session's mediator"),
}

# Answers that mean "refused for who you are" (as opposed to bad input or a conflict).
REFUSAL_CODES = frozenset({
    "login_required", "forbidden", "role_not_allowed", "not_room_admin", "not_in_room",
    "chat_not_allowed", "media_not_allowed", "outside_scope", "not_joined", "csrf_failed",
    "case_not_found", "session_not_found", "invite_not_found", "not_found",
    "utterance_not_found", "evidence_not_found", "seat_invalid", "document_not_found",
    "draft_not_found", "not_a_signer", "not_expert", "expert_not_found", "call_not_found",
    "not_your_call", "outside_space", "session_ended",
})

# Over Socket.IO the caller is already seated: "not found" there means a bad id, not a
# refusal (an office mismatch cannot happen inside one session).
EVENT_REFUSAL_CODES = frozenset(c for c in REFUSAL_CODES if not c.endswith("not_found"))
