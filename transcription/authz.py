"""transcription's rows of the authorization table (``signaling/authz.py`` explains the
table and gathers these through the composition root): its API routes
(``transcription/http.py``)."""

from __future__ import annotations

from signaling.authz import (
    CLERK,
    MEDIATOR,
    OWN_OFFICE,
    STAFF_READ,
    Rows,
    Rule,
)

HTTP: dict[tuple[str, str], Rule] = {
    ("GET", "/api/v1/sessions/{session_id}/transcript"): Rule(
        STAFF_READ, OWN_OFFICE + "; caucus utterances for mediators only"),
    ("GET", "/api/v1/sessions/{session_id}/transcript/export"): Rule(
        STAFF_READ, OWN_OFFICE + "; caucus utterances for mediators only"),
    ("PATCH", "/api/v1/utterances/{utterance_id}"): Rule(
        frozenset({MEDIATOR, CLERK}), OWN_OFFICE + "; caucus utterances for mediators only",
        objects={"joint_utterance": frozenset({MEDIATOR, CLERK}),
                 "caucus_utterance": frozenset({MEDIATOR})}),
    ("GET", "/api/v1/utterances/{utterance_id}/history"): Rule(
        frozenset({MEDIATOR, CLERK}), OWN_OFFICE + "; caucus utterances for mediators only",
        objects={"joint_utterance": frozenset({MEDIATOR, CLERK}),
                 "caucus_utterance": frozenset({MEDIATOR})}),
    # The line's audio, cut by signaling/audio_archive.py: caucus audio for the mediator
    # only, joint audio for mediators and clerks; parties hear their own audio through
    # `tiaojie data export`.
    ("GET", "/api/v1/utterances/{utterance_id}/audio"): Rule(
        frozenset({MEDIATOR, CLERK}), OWN_OFFICE + "; caucus audio for mediators only",
        objects={"joint_utterance": frozenset({MEDIATOR, CLERK}),
                 "caucus_utterance": frozenset({MEDIATOR})}),
}

ROWS = Rows(http=HTTP)
