"""The data a mediation record or agreement is rendered from.

These models are what the mediator edits in the room and what a draft version
stores. They are frozen: a change is a new object, and so a new draft version.
Field names avoid ``items``/``keys``/``values`` because templates see them as
dicts, where those names would resolve to dict methods.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Language = Literal["zh-CN", "en"]
DocumentKind = Literal["agreement", "record", "oral_register"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)


class Matter(str, Enum):
    """The kind of dispute; three kinds exclude electronic signatures."""

    neighbourhood = "neighbourhood"
    property_management = "property_management"
    tort = "tort"
    contract = "contract"
    debt = "debt"
    labour = "labour"
    medical = "medical"
    family = "family"
    marriage = "marriage"
    adoption = "adoption"
    inheritance = "inheritance"
    other = "other"


# 电子签名法 art. 3: documents about marriage, adoption and inheritance
# ("婚姻、收养、继承等人身关系") may not use electronic signatures.
ESIGN_EXCLUDED_MATTERS = frozenset({Matter.marriage, Matter.adoption, Matter.inheritance})


IdType = Literal["resident_id", "passport", "hk_macao_permit", "taiwan_permit",
                 "foreign_permanent_id", "other"]
"""The kind of identity document a person gives (an organisation gives its unified social
credit code instead)."""
AgentKind = Literal["lawyer", "legal_worker", "relative", "employee", "community", "other"]
"""Who an agent is (民事诉讼法 art. 61 lists who may act for a party)."""


class Agent(_Frozen):
    """A 委托代理人: someone a party authorised to act for them. Printed under the party as
    its agent and signing on the party's line, never as a party of their own."""

    name: str = Field(min_length=1, max_length=100)
    """Full name."""
    kind: AgentKind = "other"
    """律师, 基层法律服务工作者, 近亲属, 工作人员, 社区推荐, 其他."""
    authority: Literal["general", "special"] = "general"
    """一般授权 or 特别授权 (special authority is needed to agree to terms)."""
    id_type: IdType = "resident_id"
    """The agent's identity document."""
    id_number: str | None = Field(default=None, max_length=64)
    """Rendered masked unless a template asks for it in full."""
    phone: str | None = Field(default=None, max_length=40)
    """Where the one-time code goes when the agent signs."""
    email: str | None = Field(default=None, max_length=254)
    """Where a copy may be sent; never printed."""
    invite_id: str | None = Field(default=None, max_length=32)
    """The join link the agent came in through; only its participant may sign for the party.
    Never printed."""


class PartyDetails(_Frozen):
    """One party to the dispute: a person or an organisation (art. 29 basic details)."""

    party_id: str = Field(min_length=1, max_length=64)
    """Stable id within the case, e.g. "P1"; clauses refer to parties by it."""
    role: Literal["applicant", "respondent", "third_party"] = "applicant"
    """申请人 / 被申请人 / 第三人."""
    kind: Literal["person", "organisation"] = "person"
    """A natural person, or an organisation with a legal representative."""
    name: str = Field(min_length=1, max_length=200)
    """Full name of the person, or the organisation's registered name."""
    sex: Literal["male", "female"] | None = None
    """For a person; templates print it in the document's language."""
    ethnicity: str | None = Field(default=None, max_length=40)
    """民族, as the party gives it."""
    birth_date: date | None = None
    """For a person; the MoJ format asks for age or date of birth."""
    occupation: str | None = Field(default=None, max_length=100)
    """职业."""
    id_type: IdType = "resident_id"
    """For a person: the identity document ``id_number`` comes from."""
    id_number: str | None = Field(default=None, max_length=64)
    """Resident ID (or other document) or unified social credit code; rendered masked unless
    asked for."""
    address: str = Field(default="", max_length=300)
    """Domicile or registered address."""
    phone: str | None = Field(default=None, max_length=40)
    """Contact number; where the one-time code goes when the party signs in person."""
    email: str | None = Field(default=None, max_length=254)
    """Where a copy may be sent; never printed."""
    legal_representative: str | None = Field(default=None, max_length=100)
    """For an organisation: its legal representative (法定代表人)."""
    legal_representative_title: str | None = Field(default=None, max_length=100)
    """For an organisation: the representative's post."""
    agent: str | None = None
    """An agent's name only (documents drafted before ``agents``); printed like an agent."""
    agents: tuple[Agent, ...] = Field(default=(), max_length=4)
    """委托代理人, each printed under the party; any one of them may sign for it."""
    invite_id: str | None = Field(default=None, max_length=32)
    """The join link the party came in through; None for a party not in the room (they are
    represented by an agent, or sign on paper). Never printed."""

    @model_validator(mode="after")
    def _organisation_has_representative(self) -> PartyDetails:
        if self.kind == "organisation" and not self.legal_representative:
            raise ValueError(f"party {self.party_id}: an organisation needs a legal_representative")
        return self

    def seat_invites(self) -> dict[str, str]:
        """invite id -> who comes in through it: "party" or the agent's index ("agent:0")."""
        out = {a.invite_id: f"agent:{n}" for n, a in enumerate(self.agents) if a.invite_id}
        if self.invite_id:
            out[self.invite_id] = "party"
        return out


class Clause(_Frozen):
    """One term of the agreement: who owes what to whom, how, where and by when."""

    obligor: str
    """party_id of the party who performs."""
    obligee: str
    """party_id of the party who receives the performance."""
    obligation: str = Field(min_length=1)
    """What is to be done, e.g. "支付赔偿款" or "repair the leaking pipe"."""
    amount: Decimal | None = Field(default=None, ge=0)
    """Sum of money, when the obligation is a payment."""
    currency: str = "CNY"
    """ISO 4217 currency of ``amount``."""
    method: str = ""
    """Manner of performance, e.g. bank transfer to the obligee's account."""
    place: str = ""
    """Place of performance."""
    deadline: date
    """Last day for performance (履行期限)."""


class Person(_Frozen):
    """A mediator or recorder named in the document."""

    name: str = Field(min_length=1)
    """Full name."""
    phone: str | None = None
    """Where a one-time signing code may be sent."""


class AgreementData(_Frozen):
    """Everything the 人民调解协议书 says (人民调解法 art. 29)."""

    case_number: str = Field(min_length=1, max_length=100)
    """The committee's case number, e.g. "（2026）长调字第15号"."""
    committee: str = Field(min_length=1)
    """The people's mediation committee's name; its seal is affixed."""
    matter: Matter = Matter.other
    """The kind of dispute; marriage, adoption and inheritance exclude e-signatures."""
    parties: tuple[PartyDetails, ...] = Field(min_length=2)
    """Every party, in the order the document lists them."""
    facts: str = Field(min_length=1)
    """The main facts of the dispute."""
    disputed_points: tuple[str, ...] = ()
    """The matters in dispute, one per entry."""
    responsibility: str = ""
    """Each party's responsibility as the parties accept it."""
    clauses: tuple[Clause, ...] = Field(min_length=1)
    """The terms agreed, each with obligor, obligee, amount, method, place, deadline."""
    other_terms: tuple[str, ...] = ()
    """Further agreed terms that are not a performance (e.g. no further claims)."""
    copies: int | None = Field(default=None, ge=2, le=20)
    """Copies made; None means one per party and one for the committee (art. 29)."""
    mediator: Person
    """The mediator who signs."""
    recorder: Person | None = None
    """The recorder (记录人) printed on the agreement: a clerk, another staff member or the
    mediator, as the office chooses. Art. 29 does not need their signature, so they do not
    sign the agreement and their absence never blocks signing."""
    signed_on: date
    """The date printed on the document."""

    @model_validator(mode="after")
    def _clauses_name_known_parties(self) -> AgreementData:
        ids = [p.party_id for p in self.parties]
        if len(set(ids)) != len(ids):
            raise ValueError("party_id values must be unique")
        for number, clause in enumerate(self.clauses, start=1):
            for who in (clause.obligor, clause.obligee):
                if who not in ids:
                    raise ValueError(f"clause {number}: unknown party_id {who!r}")
        if self.copies is not None and self.copies < len(self.parties) + 1:
            raise ValueError(f"copies: at least {len(self.parties) + 1}, one for each party and "
                             "one for the committee")
        return self


class RecordParticipant(_Frozen):
    """Someone present at the session, with where they joined from."""

    name: str = Field(min_length=1)
    """Full name."""
    role: str
    """Role as printed: party, agent, mediator, expert, interpreter, ..."""
    joined_from: str = ""
    """Where the participant joined from, as they gave it (e.g. "home, Changning")."""


class Statement(_Frozen):
    """What one side said, from the transcript as corrected by the clerk."""

    speaker: str
    """Name of the speaker."""
    text: str
    """The statement, edited."""
    start: float | None = Field(default=None, ge=0)
    """When the turn began, in seconds since the session began (from the transcript)."""
    end: float | None = Field(default=None, ge=0)
    """When the turn ended, in seconds since the session began."""


def statements_from_transcript(lines: Iterable[tuple[str, str]]) -> tuple[Statement, ...]:
    """Statements from (speaker name, text) transcript lines, in order.

    Consecutive lines of one speaker become one statement, as a record writes
    them; empty lines are skipped. The clerk edits the result before it is used.
    """
    merged: list[list[str]] = []
    for speaker, text in lines:
        text = text.strip()
        if not text:
            continue
        if merged and merged[-1][0] == speaker:
            merged[-1][1] += " " + text
        else:
            merged.append([speaker, text])
    return tuple(Statement(speaker=speaker, text=text) for speaker, text in merged)


class Evidence(_Frozen):
    """A piece of evidence shown in the session."""

    submitted_by: str
    """Name of who showed it."""
    description: str
    """What it is."""


class RecordData(_Frozen):
    """Everything the 人民调解记录 says (MoJ format: 调解记录)."""

    case_number: str = Field(min_length=1, max_length=100)
    """The committee's case number."""
    committee: str = Field(min_length=1)
    """The people's mediation committee's name."""
    matter: Matter = Matter.other
    """The kind of dispute."""
    subject: str = Field(min_length=1)
    """The matter mediated (事由), in one sentence."""
    started_at: datetime
    """When the session began."""
    ended_at: datetime | None = None
    """When the session ended."""
    room: str
    """The online room, e.g. "Tiaojie online room 7F3K"."""
    place: str = Field(default="", max_length=200)
    """The place as printed (e.g. "线上（远程视频调解）"); empty prints the online room."""
    parties: tuple[PartyDetails, ...] = Field(min_length=1)
    """The parties, for the participant list and signature blocks."""
    joined_from: dict[str, str] = Field(default_factory=dict)
    """party_id -> where that party joined from, as they gave it."""
    participants: tuple[RecordParticipant, ...] = ()
    """Everyone else present (agents, experts, interpreters) and where each joined from."""
    rights_notified: bool = True
    """Whether the notice of rights and duties was read and acknowledged."""
    statements: tuple[Statement, ...] = ()
    """Each side's statements."""
    evidence: tuple[Evidence, ...] = ()
    """Evidence shown."""
    outcome_reached: bool
    """Whether an agreement was reached."""
    outcome: str
    """The outcome, or why none was reached."""
    mediator: Person
    """The mediator who signs after read-back."""
    recorder: Person
    """The recorder (记录人) printed on the record: a clerk, another staff member or the
    mediator, as the office chooses."""
    recorder_signs: bool = True
    """Whether the recorder signs after read-back, as a separate person in the room (a
    clerk). Where the office has the mediator record, or names a staff member who is not
    in the session, the name is printed and the parties and the mediator sign: the
    recorder's absence never blocks the ceremony (the agreement's rule)."""
    signed_on: date
    """The date printed on the record."""


class OralRegisterData(_Frozen):
    """The 口头协议登记表: an agreement the parties made orally (人民调解法 art. 28), which
    the mediator registers in writing instead of drawing up an agreement."""

    case_number: str = Field(min_length=1, max_length=100)
    """The committee's case number."""
    committee: str = Field(min_length=1)
    """The people's mediation committee's name."""
    matter: Matter = Matter.other
    """The kind of dispute."""
    parties: tuple[PartyDetails, ...] = Field(min_length=2)
    """The parties who agreed orally."""
    dispute_summary: str = Field(min_length=1, max_length=5000)
    """纠纷简要情况: what the dispute was about."""
    agreement_content: str = Field(min_length=1, max_length=5000)
    """口头协议内容: what the parties agreed, as they said it."""
    performance: str = Field(default="", max_length=2000)
    """履行情况: how and when it was (or is to be) performed; may be filled in later."""
    mediator: Person
    """The mediator who registers it."""
    recorder: Person | None = None
    """Who wrote the register, when not the mediator; printed, not a signer."""
    signed_on: date
    """The date of registration."""

    @model_validator(mode="after")
    def _unique_parties(self) -> OralRegisterData:
        ids = [p.party_id for p in self.parties]
        if len(set(ids)) != len(ids):
            raise ValueError("party_id values must be unique")
        return self


DocumentData = AgreementData | RecordData | OralRegisterData

DATA_MODELS: dict[str, type[AgreementData] | type[RecordData] | type[OralRegisterData]] = {
    "agreement": AgreementData, "record": RecordData, "oral_register": OralRegisterData}
"""The model a draft of each kind stores."""


def esign_applies(data: DocumentData) -> bool:
    """Whether electronic signatures may be used for this document (电子签名法 art. 3)."""
    return data.matter not in ESIGN_EXCLUDED_MATTERS
