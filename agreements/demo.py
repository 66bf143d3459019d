"""A fictitious case: the data behind template checks, tests and the demo command.

Every list holds at least one entry so that checking a template against this
case walks every loop body and finds every field a template names.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

from .models import (
    Agent,
    AgreementData,
    Clause,
    Evidence,
    Matter,
    OralRegisterData,
    PartyDetails,
    Person,
    RecordData,
    RecordParticipant,
    Statement,
)

CHINA = timezone(timedelta(hours=8))


def demo_parties() -> tuple[PartyDetails, ...]:
    """Two parties: a resident and a property-management company (both fictitious)."""
    return (
        PartyDetails(
            party_id="P1",
            role="applicant",
            name="张三",
            sex="male",
            ethnicity="汉族",
            birth_date=date(1968, 3, 14),
            occupation="退休职工",
            id_number="310105196803140013",
            address="上海市长宁区示例路100弄5号301室",
            phone="13800000001",
        ),
        PartyDetails(
            party_id="P2",
            role="respondent",
            kind="organisation",
            name="示例物业管理有限公司",
            id_number="91310105MA1FL00004",
            address="上海市长宁区示例路200号",
            phone="021-60000000",
            legal_representative="李四",
            legal_representative_title="总经理",
            agents=(Agent(name="王五", kind="lawyer", authority="special",
                          phone="13800000002"),),
        ),
    )


def demo_agreement(matter: Matter = Matter.property_management) -> AgreementData:
    """The agreement of the demo case."""
    return AgreementData(
        case_number="（2026）长新调字第015号",
        committee="示例街道人民调解委员会",
        matter=matter,
        parties=demo_parties(),
        facts="2026年10月，申请人住房因楼上公共水管破裂漏水，天花板及墙面受损。",
        disputed_points=("漏水原因及维修责任", "损失赔偿数额"),
        responsibility="被申请人对公共水管维护不及时，承担主要责任。",
        clauses=(
            Clause(
                obligor="P2",
                obligee="P1",
                obligation="支付房屋修复及财产损失赔偿款",
                amount=Decimal("12000.00"),
                method="银行转账至申请人指定账户",
                place="上海市长宁区",
                deadline=date(2026, 12, 31),
            ),
            Clause(
                obligor="P2",
                obligee="P1",
                obligation="更换破损公共水管并检修楼道管线",
                method="派员上门施工",
                place="上海市长宁区示例路100弄5号",
                deadline=date(2026, 12, 15),
            ),
        ),
        other_terms=("本协议履行完毕后，双方就本纠纷再无其他争议。",),
        mediator=Person(name="赵调解", phone="13800000003"),
        recorder=Person(name="钱记录", phone="13800000004"),
        signed_on=date(2026, 11, 25),
    )


def demo_record() -> RecordData:
    """The record of the demo case's session."""
    return RecordData(
        case_number="（2026）长新调字第015号",
        committee="示例街道人民调解委员会",
        matter=Matter.property_management,
        subject="房屋漏水损害赔偿纠纷",
        started_at=datetime(2026, 11, 25, 9, 30, tzinfo=CHINA),
        ended_at=datetime(2026, 11, 25, 10, 45, tzinfo=CHINA),
        room="Tiaojie 7F3K",
        parties=demo_parties(),
        joined_from={"P1": "家中（长宁区）", "P2": "公司办公室"},
        participants=(
            RecordParticipant(name="王五", role="被申请人委托代理人", joined_from="律师事务所"),
            RecordParticipant(name="孙专家", role="物业专家", joined_from="专家工作室"),
        ),
        rights_notified=True,
        statements=(
            Statement(speaker="张三", text="楼上水管漏了两个星期，物业一直没有来修。",
                      start=65.0, end=92.5),
            Statement(speaker="王五", text="物业同意承担维修费用，对赔偿金额有异议。"),
        ),
        evidence=(
            Evidence(submitted_by="张三", description="受损天花板照片6张"),
            Evidence(submitted_by="示例物业管理有限公司", description="报修记录1份"),
        ),
        outcome_reached=True,
        outcome="双方达成调解协议，另行制作人民调解协议书。",
        mediator=Person(name="赵调解"),
        recorder=Person(name="钱记录"),
        signed_on=date(2026, 11, 25),
    )


def demo_oral_register() -> OralRegisterData:
    """An oral agreement of the demo parties, registered (人民调解法 art. 28)."""
    return OralRegisterData(
        case_number="（2026）长新调字第016号",
        committee="示例街道人民调解委员会",
        matter=Matter.neighbourhood,
        parties=demo_parties(),
        dispute_summary="楼道堆放杂物影响通行，双方多次争执。",
        agreement_content="被申请人于三日内清理楼道杂物，今后不再堆放。",
        performance="当场履行完毕。",
        mediator=Person(name="赵调解"),
        signed_on=date(2026, 11, 26),
    )
