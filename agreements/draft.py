"""Drafts edited in the room: immutable versions and comments, behind a store protocol.

A draft is the document being written for one case. Every save is a new
``DraftVersion`` with a number, author, time and a summary of what changed;
nothing is ever overwritten, so what someone signed can always be shown
again. The server keeps drafts in its database by implementing ``DraftStore``;
``InMemoryDraftStore`` serves tests and the demo.
"""

from __future__ import annotations

import copy
import secrets
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NewType, Protocol

from .builtin import builtin_ref
from .errors import DraftNotFound, VersionConflict
from .models import DATA_MODELS, DocumentData, DocumentKind, Language, esign_applies
from .preview import render_preview, version_digest

DraftId = NewType("DraftId", str)
Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The default clock; services take a clock so tests can move time."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class Draft:
    """The document being drafted for a case: what it is, not what it says."""

    draft_id: DraftId
    """Random id (32 hex digits), safe to put in URLs."""
    case_number: str
    """The case the document belongs to."""
    kind: DocumentKind
    """Agreement or record."""
    language: Language
    """Language of the rendered document."""
    template_ref: str
    """Which DOCX template renders it: "builtin:agreement:zh-CN" or an office template id."""
    created_by: str
    """Participant id of the mediator who opened it."""
    created_at: datetime
    """When it was opened."""


@dataclass(frozen=True)
class DraftVersion:
    """One saved state of a draft; never changed after it is stored."""

    draft_id: DraftId
    """The draft it belongs to."""
    number: int
    """1 for the first save, then one more per save."""
    author: str
    """Participant id of who saved it."""
    created_at: datetime
    """When it was saved."""
    data: DocumentData
    """The structured content: parties, facts, clauses (or the record's content)."""
    changes: tuple[str, ...]
    """Human-readable summary of what changed since the previous version."""
    digest: str
    """SHA-256 (hex) of the rendered version (see ``preview.version_digest``): what is signed."""

    @property
    def esign_applies(self) -> bool:
        """False for marriage, adoption and inheritance (电子签名法 art. 3)."""
        return esign_applies(self.data)


@dataclass(frozen=True)
class Comment:
    """A participant's remark on one version of a draft."""

    comment_id: str
    """Random id."""
    draft_id: DraftId
    """The draft commented on."""
    version: int
    """The version the remark is about."""
    author: str
    """Participant id of the commenter."""
    created_at: datetime
    """When it was written."""
    text: str
    """The remark."""


class DraftStore(Protocol):
    """Where drafts, versions and comments live; the server implements it on SQLAlchemy."""

    def add_draft(self, draft: Draft) -> None:
        """Store a new draft."""

    def get_draft(self, draft_id: DraftId) -> Draft:
        """The draft, or ``DraftNotFound``."""

    def append_version(self, version: DraftVersion) -> None:
        """Store ``version`` if its number is the latest plus one, else ``VersionConflict``.

        The check and the insert must be atomic (a unique key on (draft_id, number)
        does it in SQL): two editors saving at once must not both win.
        """

    def get_version(self, draft_id: DraftId, number: int) -> DraftVersion:
        """One version, or ``DraftNotFound``."""

    def latest_version(self, draft_id: DraftId) -> DraftVersion:
        """The newest version, or ``DraftNotFound``."""

    def list_versions(self, draft_id: DraftId) -> list[DraftVersion]:
        """Every version, oldest first."""

    def add_comment(self, comment: Comment) -> None:
        """Store a comment."""

    def list_comments(self, draft_id: DraftId, version: int | None = None) -> list[Comment]:
        """Comments on the draft (or on one version), oldest first."""


class InMemoryDraftStore:
    """A ``DraftStore`` in a dict, for tests and the demo; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._drafts: dict[DraftId, Draft] = {}
        self._versions: dict[DraftId, list[DraftVersion]] = {}
        self._comments: dict[DraftId, list[Comment]] = {}

    def add_draft(self, draft: Draft) -> None:
        with self._lock:
            self._drafts[draft.draft_id] = draft
            self._versions[draft.draft_id] = []
            self._comments[draft.draft_id] = []

    def get_draft(self, draft_id: DraftId) -> Draft:
        with self._lock:
            if draft_id not in self._drafts:
                raise DraftNotFound(f"no draft {draft_id!r}")
            return self._drafts[draft_id]

    def append_version(self, version: DraftVersion) -> None:
        with self._lock:
            versions = self._versions.get(version.draft_id)
            if versions is None:
                raise DraftNotFound(f"no draft {version.draft_id!r}")
            if version.number != len(versions) + 1:
                raise VersionConflict(
                    f"version {len(versions)} is the latest; cannot store {version.number}"
                )
            versions.append(version)

    def get_version(self, draft_id: DraftId, number: int) -> DraftVersion:
        versions = self.list_versions(draft_id)
        if not 1 <= number <= len(versions):
            raise DraftNotFound(f"draft {draft_id!r} has no version {number}")
        return versions[number - 1]

    def latest_version(self, draft_id: DraftId) -> DraftVersion:
        versions = self.list_versions(draft_id)
        if not versions:
            raise DraftNotFound(f"draft {draft_id!r} has no version yet")
        return versions[-1]

    def list_versions(self, draft_id: DraftId) -> list[DraftVersion]:
        with self._lock:
            if draft_id not in self._versions:
                raise DraftNotFound(f"no draft {draft_id!r}")
            return list(self._versions[draft_id])

    def add_comment(self, comment: Comment) -> None:
        with self._lock:
            if comment.draft_id not in self._comments:
                raise DraftNotFound(f"no draft {comment.draft_id!r}")
            self._comments[comment.draft_id].append(comment)

    def list_comments(self, draft_id: DraftId, version: int | None = None) -> list[Comment]:
        with self._lock:
            if draft_id not in self._comments:
                raise DraftNotFound(f"no draft {draft_id!r}")
            return [c for c in self._comments[draft_id] if version in (None, c.version)]


def _walk(old: Any, new: Any, path: str) -> Iterator[str]:
    if isinstance(old, dict) and isinstance(new, dict):
        for key in sorted(set(old) | set(new)):
            where = f"{path}.{key}" if path else str(key)
            if key not in old:
                yield f"{where} added"
            elif key not in new:
                yield f"{where} removed"
            else:
                yield from _walk(old[key], new[key], where)
    elif isinstance(old, list) and isinstance(new, list):
        for index in range(max(len(old), len(new))):
            where = f"{path}[{index + 1}]"
            if index >= len(old):
                yield f"{where} added"
            elif index >= len(new):
                yield f"{where} removed"
            else:
                yield from _walk(old[index], new[index], where)
    elif old != new:
        if len(str(old)) <= 40 and len(str(new)) <= 40:
            yield f"{path}: {old!s} → {new!s}"
        else:
            yield f"{path} changed"


def summarize_changes(old: DocumentData | None, new: DocumentData) -> tuple[str, ...]:
    """What changed between two versions, one line per changed field (1-based indexes)."""
    if old is None:
        return ("created",)
    return tuple(_walk(old.model_dump(mode="json"), new.model_dump(mode="json"), ""))


class DraftService:
    """Creates drafts, saves new versions and takes comments, over a ``DraftStore``."""

    def __init__(self, store: DraftStore, clock: Clock = utc_now) -> None:
        self.store = store
        self._clock = clock

    def create(
        self,
        *,
        case_number: str,
        kind: DocumentKind,
        data: DocumentData,
        author: str,
        language: Language = "zh-CN",
        template_ref: str | None = None,
    ) -> DraftVersion:
        """Open a draft and store its version 1."""
        draft = Draft(
            # 32 hex digits: the shape every id in the API's paths has.
            draft_id=DraftId(secrets.token_hex(16)),
            case_number=case_number,
            kind=kind,
            language=language,
            template_ref=template_ref or builtin_ref(kind, language),
            created_by=author,
            created_at=self._clock(),
        )
        _check_kind(kind, data)
        self.store.add_draft(draft)
        return self._save(draft, None, data, author)

    def edit(
        self, draft_id: DraftId, data: DocumentData, author: str, base_version: int
    ) -> DraftVersion:
        """Save ``data`` as a new version made from ``base_version``.

        ``VersionConflict`` when someone saved after ``base_version``. Signatures
        collected on an older version no longer count (see ``SignatureService``).
        """
        draft = self.store.get_draft(draft_id)
        _check_kind(draft.kind, data)
        latest = self.store.latest_version(draft_id)
        if latest.number != base_version:
            raise VersionConflict(
                f"the draft is at version {latest.number}, the edit was made on {base_version}"
            )
        return self._save(draft, latest, data, author)

    def _save(
        self, draft: Draft, previous: DraftVersion | None, data: DocumentData, author: str
    ) -> DraftVersion:
        number = previous.number + 1 if previous else 1
        html = render_preview(draft, number, data)
        version = DraftVersion(
            draft_id=draft.draft_id,
            number=number,
            author=author,
            created_at=self._clock(),
            data=copy.deepcopy(data),
            changes=summarize_changes(previous.data if previous else None, data),
            digest=version_digest(html, data),
        )
        self.store.append_version(version)
        return version

    def comment(self, draft_id: DraftId, version: int, author: str, text: str) -> Comment:
        """Add a participant's comment on one version."""
        text = text.strip()
        if not text:
            raise ValueError("empty comment")
        self.store.get_version(draft_id, version)
        comment = Comment(
            comment_id=secrets.token_hex(16),
            draft_id=draft_id,
            version=version,
            author=author,
            created_at=self._clock(),
            text=text[:2000],
        )
        self.store.add_comment(comment)
        return comment

    def preview(self, draft_id: DraftId, version: int | None = None) -> str:
        """The HTML the room shows for a version (the latest by default)."""
        draft = self.store.get_draft(draft_id)
        chosen = (
            self.store.latest_version(draft_id)
            if version is None
            else self.store.get_version(draft_id, version)
        )
        return render_preview(draft, chosen.number, chosen.data)


def _check_kind(kind: DocumentKind, data: DocumentData) -> None:
    expected = DATA_MODELS[kind].__name__
    if type(data).__name__ != expected:
        raise TypeError(f"a {kind} draft needs {expected}, got {type(data).__name__}")
