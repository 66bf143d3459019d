"""experts' rows of the authorization table (``signaling/authz.py`` explains the table and
gathers these through the composition root): its API routes (``experts/http.py``), the
room events that call an expert (``expert_call``, ``expert_call_end``,
``expert_call_state``) and its own namespace, the expert console ("/experts",
``experts/console.py``)."""

from __future__ import annotations

from signaling.authz import (
    ADMIN,
    ADMIN_IN_ROOM,
    EXPERT_USER,
    LOGGED_IN,
    MANAGERS,
    NOBODY,
    OTHER_OFFICE,
    OWN_OFFICE,
    STAFF_READ,
    Rows,
    Rule,
)

# Kinds of caller in the expert console namespace (/experts).
C_EXPERT = "rung_expert"
"""An active expert of the office, rung for the calls named."""
C_OTHER_OFFICE_EXPERT = "other_office_expert"
"""An expert of an office that does not lend its experts to this one."""
C_CITY_EXPERT = "city_expert"
"""An expert of another office of the same city that lends its experts
(``Office.share_experts``) to this office, which calls the city's
(``Office.use_city_experts``); rung for the calls named."""
CONSOLE_CALLERS = (C_EXPERT, C_OTHER_OFFICE_EXPERT, C_CITY_EXPERT)

HTTP: dict[tuple[str, str], Rule] = {
    ("GET", "/api/v1/expert-domains"): Rule(LOGGED_IN, "none"),
    ("GET", "/api/v1/experts"): Rule(STAFF_READ | {OTHER_OFFICE},
                                     "lists the caller's office, and the experts lent to it "
                                     "by offices of its city (labelled with their office)"),
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
    ("GET", "/api/v1/expert-ledger.csv"): Rule(
        frozenset({ADMIN}), "the caller's office only: time given to its cases, and time its "
        "experts gave to other offices of the city (served_office)"),
    ("GET", "/api/v1/sessions/{session_id}/expert-calls"): Rule(STAFF_READ, OWN_OFFICE),
    ("GET", "/api/v1/expert-calls/{call_id}"): Rule(STAFF_READ, OWN_OFFICE),
    ("POST", "/api/v1/expert-calls/{call_id}/rating"): Rule(
        MANAGERS, OWN_OFFICE + "; the calling mediator or an administrator; once"),
}

EVENTS: dict[str, Rule] = {
    "expert_call": Rule(ADMIN_IN_ROOM, "the session's mediator; rings the office's experts "
                        "and those lent to it by offices of its city"),
    "expert_call_end": Rule(ADMIN_IN_ROOM, "the session's mediator; calls of this session only",
                            objects={"call": ADMIN_IN_ROOM, "other_session_call": NOBODY}),
    "expert_call_state": Rule(ADMIN_IN_ROOM,
                              "the session's mediator; calls of this session only",
                              objects={"call": ADMIN_IN_ROOM, "other_session_call": NOBODY}),
}

CONSOLE_CONNECT = Rule(frozenset({EXPERT_USER}),
                       "a login with an active expert profile; anyone else is refused at "
                       "connect (login_required, not_expert)")
CONSOLE_EVENTS: dict[str, Rule] = {
    "accept": Rule(frozenset({C_EXPERT, C_CITY_EXPERT}),
                   "a ringing call that rang them, of the caller's office or of an office that "
                   "may call them now (same city, sharing on both sides); any other office's "
                   "call answers call_not_found"),
    "decline": Rule(frozenset({C_EXPERT, C_CITY_EXPERT}), "a ringing call that rang them"),
    "hang_up": Rule(frozenset({C_EXPERT, C_CITY_EXPERT}), "their own accepted call"),
}
"""The expert console namespace ("/experts", experts/console.py)."""

ROWS = Rows(http=HTTP, events=EVENTS, namespaces={"/experts": CONSOLE_EVENTS})
