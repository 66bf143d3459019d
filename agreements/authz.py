"""agreements' rows of the authorization table (``signaling/authz.py`` explains the table
and gathers these through the composition root): its API routes (``agreements/http.py``,
the public verify page ``agreements/public.py``) and the room events it adds
(``agreements/events.py``, ``agreements/confirmations.py``)."""

from __future__ import annotations

from signaling.authz import (
    ADMIN,
    ADMIN_IN_ROOM,
    ADMITTED_SEATS,
    EVERYONE,
    IN_ROOM,
    K1_READERS,
    MANAGERS,
    NOBODY,
    OTHER_OFFICE,
    OWN_OFFICE,
    S_CAUCUS_PARTY,
    S_CLERK,
    S_MEDIATOR,
    S_OTHER_SIDE,
    S_PARTY,
    S_SCOPED_EXPERT,
    STAFF_READ,
    Rows,
    Rule,
)

SIGNERS = frozenset({S_MEDIATOR, S_CLERK, S_PARTY, S_OTHER_SIDE})
"""The record's signers: the mediator, the clerk as recorder, and one party of each side."""
READERS = "admitted and able to read the draft: a caucus draft for that caucus's members only"
DRAFT = {"other_session_draft": NOBODY}
ADMIN_ON_DRAFTS = {"joint_draft": ADMIN_IN_ROOM, "caucus_draft": ADMIN_IN_ROOM, **DRAFT}


HTTP: dict[tuple[str, str], Rule] = {
    ("GET", "/api/v1/cases/{case_id}/documents"): Rule(STAFF_READ, OWN_OFFICE),
    ("GET", "/api/v1/documents/{document_id}/pdf"): Rule(STAFF_READ, OWN_OFFICE),
    ("GET", "/api/v1/documents/{document_id}/docx"): Rule(STAFF_READ, OWN_OFFICE),
    ("POST", "/api/v1/documents/verify"): Rule(
        STAFF_READ | {OTHER_OFFICE},
        "any office's staff; a file is linked to a stored document of the caller's office only"),
    ("GET", "/api/v1/templates"): Rule(STAFF_READ | {OTHER_OFFICE},
                                       "lists the caller's office only"),
    ("POST", "/api/v1/templates"): Rule(frozenset({ADMIN}), "stored for the caller's office"),
    ("GET", "/api/v1/templates/{template_id}/preview"): Rule(frozenset({ADMIN}), OWN_OFFICE),
    ("POST", "/api/v1/templates/{template_id}/default"): Rule(
        frozenset({ADMIN}), OWN_OFFICE + "; the office's default for the template's kind"),
    # A party's copy: only a seat's resume token or a copy link opens these, so no staff
    # login does (tests/agreements/test_party_copies.py walks the seat refusals).
    ("GET", "/api/v1/seat/documents"): Rule(
        frozenset(), "a party's or agent's own seat (X-Seat-Token) or a copy link (X-Copy-Token); "
        "documents of that seat's session only, during it and TIAOJIE_PARTY_COPY_DAYS after"),
    ("GET", "/api/v1/seat/documents/{document_id}/pdf"): Rule(
        frozenset(), "as /seat/documents; another session's document answers 404, after the "
        "period 410 copy_expired; a copy link opens its one document only"),
    ("POST", "/api/v1/documents/{document_id}/send"): Rule(
        MANAGERS, OWN_OFFICE + "; to the phone or e-mail the party confirmed"),
    # agreements/public.py: the public verify page and its JSON; no login, rate limited per
    # address; answers signers' printed names, roles and times only.
    ("GET", "/verify"): Rule(EVERYONE, "none: the public verify page"),
    ("POST", "/verify"): Rule(EVERYONE, "none: the verify page's upload (verify_ip limit)"),
    ("GET", "/verify/{short_id}"): Rule(EVERYONE, "none: the document whose short id it is"),
    ("POST", "/api/verify"): Rule(EVERYONE, "none: any PDF (verify_ip limit, "
                                            "TIAOJIE_VERIFY_MAX_BYTES)"),
    ("GET", "/api/verify/{short_id}"): Rule(EVERYONE, "none: the document whose short id it "
                                                      "is (verify_ip limit)"),
    ("GET", "/api/v1/sessions/{session_id}/court-bundle"): Rule(
        STAFF_READ, OWN_OFFICE + "; a mediator only for a session they created or whose case "
        "is theirs (another answers not_your_session); 409 agreement_not_sealed before the "
        "seal"),
    ("GET", "/api/v1/drafts/{draft_id}/print-copy"): Rule(
        STAFF_READ, OWN_OFFICE + "; clerks never get a caucus draft", objects={
            "joint_draft": STAFF_READ, "caucus_draft": MANAGERS}),
    ("POST", "/api/v1/drafts/{draft_id}/wet-ink"): Rule(
        STAFF_READ, OWN_OFFICE + "; clerks never get a caucus draft; 409 esign_applies unless "
        "the matter is marriage, adoption or inheritance", objects={
            "joint_draft": STAFF_READ, "caucus_draft": MANAGERS}),
    ("GET", "/api/v1/drafts/{draft_id}/wet-ink"): Rule(
        STAFF_READ, OWN_OFFICE + "; clerks never get a caucus draft", objects={
            "joint_draft": STAFF_READ, "caucus_draft": MANAGERS}),
}

EVENTS: dict[str, Rule] = {
    "draft_create": Rule(ADMIN_IN_ROOM | {S_CLERK},
                         "the session's mediator or a clerk in the room; the draft lives in "
                         "their space; prefill=session (a record) only from the joint "
                         "session, reading the joint transcript only"),
    "draft_edit": Rule(ADMIN_IN_ROOM | {S_CLERK},
                       "the session's mediator or a clerk in the room; " + READERS, objects={
                           "joint_draft": ADMIN_IN_ROOM | {S_CLERK},
                           "caucus_draft": ADMIN_IN_ROOM, **DRAFT}),
    "draft_comment": Rule(IN_ROOM, READERS + "; with the chat grant; from the draft's own space "
                          "(the mediator from anywhere); a scoped seat only in its scope",
                          objects={
                              "joint_draft": IN_ROOM - {S_SCOPED_EXPERT, S_CAUCUS_PARTY,
                                                        S_OTHER_SIDE},
                              "caucus_draft": K1_READERS, **DRAFT}),
    "draft_get": Rule(ADMITTED_SEATS, READERS + "; a scoped seat only in its scope", objects={
        "joint_draft": ADMITTED_SEATS - {S_SCOPED_EXPERT},
        "caucus_draft": K1_READERS, **DRAFT}),
    "draft_list": Rule(ADMITTED_SEATS, "lists exactly the drafts the caller may get"),
    "signing_open": Rule(ADMIN_IN_ROOM, "the session's mediator; signers must be present",
                         objects=ADMIN_ON_DRAFTS),
    "signing_send_code": Rule(SIGNERS, "own seat in that ceremony only",
                              objects={"ceremony": SIGNERS}),
    "sign": Rule(SIGNERS, "own seat in that ceremony only", objects={"ceremony": SIGNERS}),
    "draft_seal": Rule(ADMIN_IN_ROOM, "the session's mediator", objects=ADMIN_ON_DRAFTS),
    "draft_preview": Rule(ADMIN_IN_ROOM | {S_CLERK}, "the session's mediator or a clerk in the "
                          "room; renders only, stores and tells nothing"),
    "party_details_get": Rule(frozenset({S_PARTY}),
                              "a party or agent, for the party whose link they joined through; "
                              + READERS + " (answers only the caller's own party)",
                              objects={
                                  "joint_draft": frozenset({S_PARTY, S_CAUCUS_PARTY,
                                                            S_OTHER_SIDE}),
                                  "caucus_draft": frozenset({S_CAUCUS_PARTY}), **DRAFT}),
    "party_confirm": Rule(frozenset({S_PARTY}),
                          "a party or agent, for the party whose link they joined through only; "
                          + READERS + ". The walk's drafts name no party the walking "
                          "seats' links belong to, so every seat is refused there "
                          "(not_your_party); the party's own confirmation is proven in "
                          "tests/agreements and tests/e2e/test_agreement_signing.py",
                          objects={"joint_draft": NOBODY, "caucus_draft": NOBODY, **DRAFT}),
}

ROWS = Rows(http=HTTP, events=EVENTS)
