"""A case's life (案件流程) as data: its states, the moves allowed between them, and what
each move needs. The server checks every move against this table (``signaling.cases``);
the client only shows the moves the case offers.

申请 → 受理 (or 不予受理, with a reason) → 排期 → 调解中 → 达成协议 / 未达成协议 / 终止
→ 司法确认 (when applied for) → 回访 → 归档.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from sqlalchemy import bindparam, text
from sqlalchemy.ext.asyncio import AsyncSession

from signaling.errors import BadRequest, Conflict

CaseState = Literal["applied", "accepted", "rejected", "scheduled", "in_mediation", "agreed",
                    "not_agreed", "terminated", "judicial_confirm", "return_visit", "archived"]

LABELS: Mapping[str, str] = {
    "applied": "申请", "accepted": "受理", "rejected": "不予受理", "scheduled": "排期",
    "in_mediation": "调解中", "agreed": "达成协议", "not_agreed": "未达成协议",
    "terminated": "终止", "judicial_confirm": "司法确认", "return_visit": "回访",
    "archived": "归档",
}
"""The state's name as offices write it (the client has the same, and English)."""

STATES: tuple[str, ...] = tuple(LABELS)
INITIAL = "applied"

TRANSITIONS: Mapping[str, frozenset[str]] = {
    "applied": frozenset({"accepted", "rejected"}),
    "accepted": frozenset({"scheduled", "terminated"}),
    "scheduled": frozenset({"in_mediation", "terminated"}),
    # A sitting that ends without an outcome is followed by another one.
    "in_mediation": frozenset({"agreed", "not_agreed", "terminated", "scheduled"}),
    "agreed": frozenset({"judicial_confirm", "return_visit"}),
    "not_agreed": frozenset({"archived"}),
    "terminated": frozenset({"archived"}),
    "judicial_confirm": frozenset({"return_visit"}),
    "return_visit": frozenset({"archived"}),
    "rejected": frozenset(),
    "archived": frozenset(),
}
"""From each state, the states a case may move to. Every other move is refused (409)."""

SCHEDULABLE = frozenset({"applied", "accepted", "scheduled", "in_mediation"})
"""States in which a session may still be scheduled; a closed case refuses (409
case_closed)."""

REASON_REQUIRED = frozenset({"rejected", "terminated"})
"""Moves that must say why (the reason is written to the case's log)."""

REQUIRES_SEALED: Mapping[str, tuple[str, ...]] = {
    "agreed": ("agreement", "oral_register"),
    "archived": ("record",),
}
"""Moves that need a sealed document of the case, of one of these kinds: an agreement (a
written one, or the register of an oral one) for 达成协议, the mediation record for 归档."""

MILESTONES: Mapping[str, tuple[str, ...]] = {
    "agreed": ("decided_at", "agreed_at"),
    "not_agreed": ("decided_at",),
    "terminated": ("decided_at",),
    "judicial_confirm": ("judicial_at",),
}
"""Moves whose first time is kept on the case (``cases.decided_at`` …) for the statistics:
a decided mediation (the success rate's base), an agreement, 司法确认 applied for."""

LEGACY: Mapping[str, str] = {
    "open": "accepted", "in_mediation": "in_mediation", "agreed": "agreed",
    "failed": "not_agreed", "closed": "archived",
}
"""States written before this table (migration 0004_case_states maps them)."""


def allowed_moves(state: str) -> list[str]:
    """The states a case in ``state`` may move to, in the table's order."""
    nxt = TRANSITIONS.get(state, frozenset())
    return [s for s in STATES if s in nxt]


def path_to(current: str, target: str) -> list[str]:
    """The shortest chain of allowed moves from ``current`` to ``target`` (empty when
    already there or when the table offers none)."""
    if current == target:
        return []
    seen = {current}
    frontier: list[tuple[str, list[str]]] = [(current, [])]
    while frontier:
        nxt: list[tuple[str, list[str]]] = []
        for state, path in frontier:
            for s in allowed_moves(state):
                if s == target:
                    return [*path, s]
                if s not in seen and s not in REJECTED_PATHS:
                    seen.add(s)
                    nxt.append((s, [*path, s]))
        frontier = nxt
    return []


REJECTED_PATHS = frozenset({"rejected", "terminated"})
"""States a walk never passes through (they end a case)."""


def check_move(current: str, target: str, reason: str) -> None:
    """Refuse a move the table does not allow, or one that lacks its reason."""
    if target not in TRANSITIONS.get(current, frozenset()):
        raise Conflict(f"A case in {LABELS.get(current, current)} cannot move to "
                       f"{LABELS.get(target, target)}.", code="illegal_transition")
    if target in REASON_REQUIRED and not reason:
        raise BadRequest(f"Moving to {LABELS[target]} needs a reason.", code="reason_required")


SEALED_OF_CASE = text(
    "SELECT count(*) FROM agreement_documents WHERE case_id = :case_id AND kind IN :kinds"
).bindparams(bindparam("kinds", expanding=True))


async def has_sealed_document(db: AsyncSession, case_id: str, kinds: tuple[str, ...]) -> bool:
    """Whether the case has a sealed document of one of ``kinds``.

    Read by table name: the documents belong to ``agreements``, which signaling must not
    import (pyproject's import contracts); a row there exists only once sealed."""
    n = (await db.execute(SEALED_OF_CASE, {"case_id": case_id, "kinds": list(kinds)})).scalar()
    return bool(n)


async def check_documents(db: AsyncSession, case_id: str, target: str) -> None:
    kinds = REQUIRES_SEALED.get(target)
    if kinds and not await has_sealed_document(db, case_id, kinds):
        code = "agreement_not_sealed" if target == "agreed" else "record_not_sealed"
        what = "a sealed agreement" if target == "agreed" else "a sealed mediation record"
        raise Conflict(f"Moving to {LABELS[target]} needs {what} of this case.", code=code)
