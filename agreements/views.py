"""What the room is told: the ``draft``, ``signature`` and ``sealed`` event bodies.

Each reader gets the view their role needs: staff see the parties' identity data in
full; parties see the preview exactly as it will be signed (the digest binds to it)
with the structured data masked; everyone else (experts, observers) sees a preview
rendered from masked data. No view ever carries a one-time code.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from signaling.rooms.room import Member

from .ceremony import Ceremony
from .draft import Draft, DraftVersion
from .preview import render_preview
from .seats import SIGNING_PARTY_ROLES, masked_data, needs_identity
from .store_sql import load_data


def draft_view(draft: Draft, caucus_id: str | None, version: DraftVersion, reader: Member
               ) -> dict[str, Any]:
    """The ``draft`` event body for one reader."""
    data = version.data.model_dump(mode="json")
    if needs_identity(reader):
        html = render_preview(draft, version.number, version.data)
    else:
        data = masked_data(data)
        if reader.role in SIGNING_PARTY_ROLES:
            # A signer reads what they sign: the preview the digest was computed over.
            html = render_preview(draft, version.number, version.data)
        else:
            html = render_preview(draft, version.number, load_data(draft.kind, data))
    return {
        "draft_id": draft.draft_id,
        "kind": draft.kind,
        "language": draft.language,
        "case_number": draft.case_number,
        "caucus_id": caucus_id,
        "version": version.number,
        "digest": version.digest,
        "author": version.author,
        "changes": list(version.changes),
        "esign_applies": version.esign_applies,
        "html": html,
        "data": data,
    }


def views_by_reader(draft: Draft, caucus_id: str | None, version: DraftVersion,
                    readers: Iterable[Member]) -> list[tuple[list[str], dict[str, Any]]]:
    """(recipients, body) pairs: one body per kind of view, so each is rendered once."""
    groups: dict[str, list[Member]] = {}
    for m in readers:
        key = ("staff" if needs_identity(m)
               else "signer" if m.role in SIGNING_PARTY_ROLES else "other")
        groups.setdefault(key, []).append(m)
    return [([m.participant_id for m in members],
             draft_view(draft, caucus_id, version, members[0]))
            for members in groups.values()]


def ceremony_view(ceremony: Ceremony, seats: dict[str, str], event: str,
                  **extra: Any) -> dict[str, Any]:
    """The ``signature`` event body: the state of a signing round, never a code."""
    return {
        "event": event,
        "ceremony_id": ceremony.ceremony_id,
        "draft_id": ceremony.draft_id,
        "version": ceremony.version_number,
        "digest": ceremony.version_digest,
        "status": ceremony.status,
        "void_reason": ceremony.void_reason,
        "signers": [
            {
                "signer_id": s.signer_id,
                "name": s.name,
                "acting_name": s.acting_name,
                "role_label": s.role_label,
                "participant_id": seats.get(s.signer_id),
                "signed": s.signer_id in ceremony.signatures,
                "signed_at": (ceremony.signatures[s.signer_id].signed_at.isoformat()
                              if s.signer_id in ceremony.signatures else None),
            }
            for s in ceremony.signers
        ],
        "missing": ceremony.missing,
        **extra,
    }
