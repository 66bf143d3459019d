"""Parties and their seats: who in the room may speak and sign for which party, what each
may correct about themselves, and whether the current draft says what they confirmed.

Pure functions over the document data and confirmation records; the events ask them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .models import Agent, AgreementData, DocumentData, PartyDetails

PERSON_FIELDS = ("name", "sex", "ethnicity", "birth_date", "occupation", "id_type", "id_number",
                 "address", "phone", "email")
"""What a natural person may correct about themselves."""
ORGANISATION_FIELDS = ("name", "address", "id_number", "phone", "email",
                       "legal_representative", "legal_representative_title")
"""What an organisation's agent may correct about the organisation."""
AGENT_FIELDS = ("name", "id_type", "id_number", "phone", "email")
"""What an agent may correct about themselves."""


def entry_digest(party: PartyDetails) -> str:
    """SHA-256 of a party's entry (agents included): what a confirmation vouches for."""
    canonical = json.dumps(party.model_dump(mode="json"), ensure_ascii=False, sort_keys=True,
                           separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def seats_for_invite(data: DocumentData, invite_id: str | None) -> list[tuple[PartyDetails, str]]:
    """The parties a participant who joined through ``invite_id`` acts for, each with
    "party" (it is them) or "agent:<n>" (they are its n-th agent)."""
    if not invite_id:
        return []
    out = []
    for party in data.parties:
        acting = party.seat_invites().get(invite_id)
        if acting:
            out.append((party, acting))
    return out


def agent_of(party: PartyDetails, acting_as: str) -> Agent | None:
    if not acting_as.startswith("agent:"):
        return None
    index = int(acting_as.split(":", 1)[1])
    return party.agents[index] if index < len(party.agents) else None


def corrected(party: PartyDetails, acting_as: str, details: Mapping[str, Any] | None,
              agent: Mapping[str, Any] | None) -> PartyDetails:
    """The party's entry with the confirmer's corrections; only the fields they may change.

    ``ValueError`` (from pydantic) when a value is not acceptable."""
    raw = party.model_dump(mode="json")
    allowed = ORGANISATION_FIELDS if party.kind == "organisation" else PERSON_FIELDS
    for key, value in (details or {}).items():
        if key not in allowed:
            raise ValueError(f"{key} cannot be corrected here")
        # An emptied optional field is absent; name and address are plain strings.
        raw[key] = None if value == "" and key not in ("name", "address") else value
    if agent:
        found = agent_of(party, acting_as)
        if found is None:
            raise ValueError("only an agent corrects agent details")
        index = int(acting_as.split(":", 1)[1])
        for key, value in agent.items():
            if key not in AGENT_FIELDS:
                raise ValueError(f"agent {key} cannot be corrected here")
            raw["agents"][index][key] = None if value == "" and key != "name" else value
    return PartyDetails.model_validate(raw)


def changed_fields(before: PartyDetails, after: PartyDetails) -> list[str]:
    """Dotted names of what differs, e.g. ["phone", "agents.0.phone"]."""
    a, b = before.model_dump(mode="json"), after.model_dump(mode="json")
    out = [k for k in a if k != "agents" and a[k] != b.get(k)]
    for n, (x, y) in enumerate(zip(a.get("agents", []), b.get("agents", []))):
        out += [f"agents.{n}.{k}" for k in x if x[k] != y.get(k)]
    return out


@dataclass(frozen=True)
class Confirmation:
    """A confirmation as the rules need it (a row of ``agreement_party_confirmations``)."""

    party_id: str
    participant_id: str
    acting_as: str
    version_number: int
    status: str
    details: dict[str, Any]
    details_digest: str
    created_at: datetime


def party_states(data: DocumentData, confirmations: Iterable[Confirmation]
                 ) -> dict[str, dict[str, Any]]:
    """Per party: "confirmed" when the newest confirmation vouches for the entry as it is
    now, "corrected" when it asks for changes not yet made, else "pending"."""
    newest: dict[str, Confirmation] = {}
    for found in sorted(confirmations, key=lambda x: x.created_at):
        newest[found.party_id] = found
    out: dict[str, dict[str, Any]] = {}
    for party in data.parties:
        c = newest.get(party.party_id)
        if c is None:
            out[party.party_id] = {"status": "pending"}
            continue
        current = entry_digest(party)
        state = "confirmed" if c.details_digest == current else "corrected"
        body: dict[str, Any] = {"status": state, "by": c.participant_id, "acting_as": c.acting_as,
                                "version": c.version_number, "at": c.created_at.isoformat()}
        if state == "corrected":
            wanted = PartyDetails.model_validate(c.details)
            body["changes"] = changed_fields(party, wanted)
            body["details"] = c.details
        out[party.party_id] = body
    return out


def unconfirmed(data: DocumentData, confirmations: Iterable[Confirmation]) -> list[str]:
    """Names of the parties whose entry is not confirmed as it now reads."""
    states = party_states(data, confirmations)
    return [p.name for p in data.parties if states[p.party_id]["status"] != "confirmed"]


def is_agreement(data: DocumentData) -> bool:
    return isinstance(data, AgreementData)
