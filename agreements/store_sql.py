"""``DraftStore`` and ``CeremonyStore`` on SQLAlchemy, for the server.

The library's store protocols are synchronous and the server is async. Rather than
copy the rules into async code, one library call runs inside
``AsyncSession.run_sync``: these classes get the *sync* face of the request's session
(SQLAlchemy drives the async driver underneath through greenlets), so the library's
whole step (read, check, write) is one database transaction that commits or rolls
back as a unit.

The atomicity the protocols ask for comes from the database, not from a lock:
``append_version`` relies on the unique key (draft_id, number), and ``save`` is an
UPDATE ... WHERE revision = new - 1 whose row count says whether another signer's
save got in first. Both hold across server nodes on PostgreSQL.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .ceremony import Ceremony, CodeChallenge, CollectedSignature, Signer
from .draft import Comment, Draft, DraftId, DraftVersion
from .errors import DraftNotFound, VersionConflict
from .models import DATA_MODELS, DocumentData
from .tables import CeremonyRow, DraftCommentRow, DraftRow, DraftVersionRow


@dataclass(frozen=True)
class Place:
    """Where a new draft lives: its case, session and (when drafted in one) caucus."""

    case_id: str
    session_id: str
    caucus_id: str | None


def load_data(kind: str, data: dict[str, Any]) -> DocumentData:
    """A version's stored JSON back into the model of its draft's kind."""
    return DATA_MODELS[kind].model_validate(data)


def draft_from_row(row: DraftRow) -> Draft:
    return Draft(
        draft_id=DraftId(row.id),
        case_number=row.case_number,
        kind=row.kind,  # type: ignore[arg-type]  # checked on insert
        language=row.language,  # type: ignore[arg-type]
        template_ref=row.template_ref,
        created_by=row.created_by,
        created_at=row.created_at,
    )


class SqlDraftStore:
    """A ``DraftStore`` over one sync ORM session (see the module docstring)."""

    def __init__(self, db: Session, place: Place | None = None) -> None:
        self._db = db
        self._place = place
        self._kinds: dict[str, str] = {}

    def add_draft(self, draft: Draft) -> None:
        if self._place is None:
            raise ValueError("a new draft needs a place (case, session, caucus)")
        self._db.add(
            DraftRow(
                id=draft.draft_id,
                case_id=self._place.case_id,
                session_id=self._place.session_id,
                caucus_id=self._place.caucus_id,
                case_number=draft.case_number,
                kind=draft.kind,
                language=draft.language,
                template_ref=draft.template_ref,
                created_by=draft.created_by,
                created_at=draft.created_at,
            )
        )
        self._db.flush()
        self._kinds[draft.draft_id] = draft.kind

    def _row(self, draft_id: DraftId) -> DraftRow:
        row = self._db.get(DraftRow, draft_id)
        if row is None:
            raise DraftNotFound(f"no draft {draft_id!r}")
        self._kinds[draft_id] = row.kind
        return row

    def get_draft(self, draft_id: DraftId) -> Draft:
        return draft_from_row(self._row(draft_id))

    def append_version(self, version: DraftVersion) -> None:
        self._row(version.draft_id)
        latest = self._db.scalar(
            select(func.max(DraftVersionRow.number)).where(
                DraftVersionRow.draft_id == version.draft_id
            )
        )
        if version.number != (latest or 0) + 1:
            raise VersionConflict(
                f"version {latest or 0} is the latest; cannot store {version.number}")
        self._db.add(
            DraftVersionRow(
                draft_id=version.draft_id,
                number=version.number,
                author=version.author,
                created_at=version.created_at,
                data=version.data.model_dump(mode="json"),
                changes=list(version.changes),
                digest=version.digest,
            )
        )
        try:
            # Two editors who both read "latest = n" meet here: the unique key lets one
            # insert n + 1 and refuses the other. The refusal ends the transaction.
            self._db.flush()
        except IntegrityError as exc:
            raise VersionConflict("someone saved this draft at the same moment; reload it") from exc

    def _version(self, row: DraftVersionRow) -> DraftVersion:
        return DraftVersion(
            draft_id=DraftId(row.draft_id),
            number=row.number,
            author=row.author,
            created_at=row.created_at,
            data=load_data(self._kinds[row.draft_id], row.data),
            changes=tuple(row.changes),
            digest=row.digest,
        )

    def get_version(self, draft_id: DraftId, number: int) -> DraftVersion:
        self._row(draft_id)
        row = self._db.scalar(
            select(DraftVersionRow).where(
                DraftVersionRow.draft_id == draft_id, DraftVersionRow.number == number
            )
        )
        if row is None:
            raise DraftNotFound(f"draft {draft_id!r} has no version {number}")
        return self._version(row)

    def latest_version(self, draft_id: DraftId) -> DraftVersion:
        self._row(draft_id)
        row = self._db.scalar(
            select(DraftVersionRow)
            .where(DraftVersionRow.draft_id == draft_id)
            .order_by(DraftVersionRow.number.desc())
            .limit(1)
        )
        if row is None:
            raise DraftNotFound(f"draft {draft_id!r} has no version yet")
        return self._version(row)

    def list_versions(self, draft_id: DraftId) -> list[DraftVersion]:
        self._row(draft_id)
        rows = self._db.scalars(
            select(DraftVersionRow)
            .where(DraftVersionRow.draft_id == draft_id)
            .order_by(DraftVersionRow.number)
        )
        return [self._version(r) for r in rows]

    def add_comment(self, comment: Comment) -> None:
        self._row(comment.draft_id)
        self._db.add(
            DraftCommentRow(
                id=comment.comment_id,
                draft_id=comment.draft_id,
                version=comment.version,
                author=comment.author,
                created_at=comment.created_at,
                text=comment.text,
            )
        )
        self._db.flush()

    def list_comments(self, draft_id: DraftId, version: int | None = None) -> list[Comment]:
        self._row(draft_id)
        stmt = select(DraftCommentRow).where(DraftCommentRow.draft_id == draft_id)
        if version is not None:
            stmt = stmt.where(DraftCommentRow.version == version)
        return [
            Comment(
                comment_id=r.id,
                draft_id=DraftId(r.draft_id),
                version=r.version,
                author=r.author,
                created_at=r.created_at,
                text=r.text,
            )
            for r in self._db.scalars(stmt.order_by(DraftCommentRow.created_at, DraftCommentRow.id))
        ]


# -- ceremonies as JSON -------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"))


def ceremony_to_json(c: Ceremony) -> dict[str, Any]:
    """The ceremony as JSON; bytes (salts, MACs, images) as base64, times as ISO 8601."""
    return {
        "signers": [
            {"signer_id": s.signer_id, "role_label": s.role_label, "name": s.name,
             "contact": s.contact, "acting_name": s.acting_name}
            for s in c.signers
        ],
        "void_reason": c.void_reason,
        "challenges": {
            k: {"salt": _b64(v.salt), "code_mac": _b64(v.code_mac),
                "expires_at": v.expires_at.isoformat()}
            for k, v in c.challenges.items()
        },
        "codes_sent": dict(c.codes_sent),
        "wrong_codes": dict(c.wrong_codes),
        "signatures": {
            k: {
                "signer_id": s.signer_id, "name": s.name, "role_label": s.role_label,
                "method": s.method,
                "image_png": _b64(s.image_png) if s.image_png is not None else None,
                "typed_name": s.typed_name, "mark_sha256": s.mark_sha256,
                "signed_at": s.signed_at.isoformat(), "ip": s.ip, "user_agent": s.user_agent,
                "version_number": s.version_number, "version_digest": s.version_digest,
            }
            for k, s in c.signatures.items()
        },
    }


def ceremony_from_row(row: CeremonyRow) -> Ceremony:
    st = row.state
    return Ceremony(
        ceremony_id=row.id,
        draft_id=DraftId(row.draft_id),
        version_number=row.version_number,
        version_digest=str(st["version_digest"]),
        signers=tuple(Signer(**s) for s in st["signers"]),
        status=row.status,  # type: ignore[arg-type]  # written from a Ceremony
        void_reason=st.get("void_reason", ""),
        challenges={
            k: CodeChallenge(_unb64(v["salt"]), _unb64(v["code_mac"]),
                             datetime.fromisoformat(v["expires_at"]))
            for k, v in st.get("challenges", {}).items()
        },
        codes_sent={k: int(v) for k, v in st.get("codes_sent", {}).items()},
        wrong_codes={k: int(v) for k, v in st.get("wrong_codes", {}).items()},
        signatures={
            k: CollectedSignature(
                signer_id=v["signer_id"], name=v["name"], role_label=v["role_label"],
                method=v["method"],
                image_png=_unb64(v["image_png"]) if v["image_png"] is not None else None,
                typed_name=v["typed_name"], mark_sha256=v["mark_sha256"],
                signed_at=datetime.fromisoformat(v["signed_at"]), ip=v["ip"],
                user_agent=v["user_agent"], version_number=int(v["version_number"]),
                version_digest=v["version_digest"],
            )
            for k, v in st.get("signatures", {}).items()
        },
        revision=row.revision,
    )


def _state(c: Ceremony) -> dict[str, Any]:
    out = ceremony_to_json(c)
    out["version_digest"] = c.version_digest
    return out


class SqlCeremonyStore:
    """A ``CeremonyStore`` over one sync ORM session; ``save`` is a conditional UPDATE."""

    def __init__(self, db: Session) -> None:
        self._db = db

    def add(self, ceremony: Ceremony) -> None:
        self._db.add(
            CeremonyRow(
                id=ceremony.ceremony_id,
                draft_id=ceremony.draft_id,
                version_number=ceremony.version_number,
                status=ceremony.status,
                revision=ceremony.revision,
                state=_state(ceremony),
                seats={},
            )
        )
        self._db.flush()

    def _fresh(self, ceremony_id: str) -> CeremonyRow | None:
        # populate_existing: a retry after a lost race must see the winner's save, not
        # the copy this session loaded before.
        return self._db.scalar(
            select(CeremonyRow)
            .where(CeremonyRow.id == ceremony_id)
            .execution_options(populate_existing=True)
        )

    def get(self, ceremony_id: str) -> Ceremony:
        row = self._fresh(ceremony_id)
        if row is None:
            raise DraftNotFound(f"no signing ceremony {ceremony_id!r}")
        return ceremony_from_row(row)

    def save(self, ceremony: Ceremony) -> None:
        result = self._db.execute(
            update(CeremonyRow)
            .where(
                CeremonyRow.id == ceremony.ceremony_id,
                CeremonyRow.revision == ceremony.revision - 1,
            )
            .values(status=ceremony.status, revision=ceremony.revision, state=_state(ceremony))
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise VersionConflict("the ceremony changed meanwhile; reload it")

    def for_draft(self, draft_id: DraftId) -> list[Ceremony]:
        rows = self._db.scalars(
            select(CeremonyRow)
            .where(CeremonyRow.draft_id == draft_id)
            .order_by(CeremonyRow.created_at, CeremonyRow.id)
            .execution_options(populate_existing=True)
        )
        return [ceremony_from_row(r) for r in rows]
