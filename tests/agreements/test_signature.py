"""The signing ceremony: one-time codes, drawn signatures, and voiding on edit."""

from __future__ import annotations

import json
import logging
import os

import pytest

from agreements import (
    Ceremony,
    CodeExpired,
    CodeInvalid,
    DraftVersion,
    ESignatureNotApplicable,
    InMemoryCeremonyStore,
    Matter,
    SignatureImageInvalid,
    SignatureService,
    SignerLocked,
    SigningRefused,
    VersionSuperseded,
)
from agreements import (
    signature as signature_module,
)
from agreements.demo import demo_agreement
from agreements.images import make_png

from .conftest import Room


def opened(
    room: Room, matter: Matter = Matter.property_management
) -> tuple[DraftVersion, Ceremony]:
    version = room.drafts.create(
        case_number="C-1", kind="agreement", data=demo_agreement(matter), author="m"
    )
    return version, room.signing.open(version.draft_id)


def test_every_party_and_the_mediator_sign_an_agreement_and_the_recorder_does_not(
        room: Room) -> None:
    _, ceremony = opened(room)
    assert [(s.signer_id, s.role_label) for s in ceremony.signers] == [
        ("P1", "申请人"),
        ("P2", "被申请人"),
        ("mediator", "调解员"),
    ]


def test_an_agreement_without_a_recorder_can_be_signed_in_full(room: Room) -> None:
    data = demo_agreement().model_copy(update={"recorder": None})
    version = room.drafts.create(case_number="C-1", kind="agreement", data=data, author="m")
    done = room.sign_all(version, room.signing.open(version.draft_id))
    assert done.status == "complete"


def test_a_record_is_signed_by_its_recorder_too(room: Room) -> None:
    from agreements.demo import demo_record

    version = room.drafts.create(case_number="C-1", kind="record", data=demo_record(),
                                 author="m")
    ceremony = room.signing.open(version.draft_id)
    assert [s.signer_id for s in ceremony.signers][-2:] == ["mediator", "recorder"]


def test_the_mediator_signs_and_gets_a_code_only_after_every_party(room: Room) -> None:
    version, ceremony = opened(room)
    cid = ceremony.ceremony_id
    with pytest.raises(SigningRefused) as early:
        room.signing.send_code(cid, "mediator")
    assert early.value.code == "mediator_signs_last" and "张三" in early.value.message
    for n, party in enumerate(("P2", "P1")):  # parties in any order
        room.signing.send_code(cid, party)
        if n == 0:
            with pytest.raises(SigningRefused, match="示例物业|张三"):
                room.signing.send_code(cid, "mediator")
        room.signing.sign(cid, party, code=room.outbox.last_code(party) or "",
                          version_digest=version.digest, image_png=make_png(200, 60))
    room.signing.send_code(cid, "mediator")
    room.signing.sign(cid, "mediator", code=room.outbox.last_code("mediator") or "",
                      version_digest=version.digest, typed_name="赵调解")
    assert room.signing.ceremonies.get(cid).status == "complete"


def test_an_agent_signs_on_the_party_line_with_their_own_name_and_phone(room: Room) -> None:
    version = room.drafts.create(case_number="C-1", kind="agreement", data=demo_agreement(),
                                 author="m")
    ceremony = room.signing.open(version.draft_id, acting={"P2": ("王五", "13800000002")})
    agent = ceremony.signer("P2")
    assert (agent.name, agent.acting_name, agent.contact) == (
        "示例物业管理有限公司", "王五", "13800000002")
    room.signing.send_code(ceremony.ceremony_id, "P2")
    message = json.loads(sorted(room.outbox.directory.glob("*-P2.json"))[-1].read_text())
    assert message["to"] == "13800000002"
    with pytest.raises(SigningRefused) as wrong:
        room.signing.sign(ceremony.ceremony_id, "P2", code=message["code"],
                          version_digest=version.digest, typed_name="示例物业管理有限公司")
    assert wrong.value.code == "typed_name_mismatch"
    room.signing.sign(ceremony.ceremony_id, "P2", code=message["code"],
                      version_digest=version.digest, typed_name="王五")


def test_a_code_goes_to_the_signers_phone_and_only_its_hash_is_kept(room: Room) -> None:
    _, ceremony = opened(room)
    room.signing.send_code(ceremony.ceremony_id, "P1")
    message_file = next((room.outbox.directory).glob("*-P1.json"))
    message = json.loads(message_file.read_text(encoding="utf-8"))
    assert message["to"] == "13800000001"
    assert len(message["code"]) == 6 and message["code"].isdigit()
    assert os.stat(message_file).st_mode & 0o077 == 0
    stored = room.signing.ceremonies.get(ceremony.ceremony_id)
    assert message["code"] not in repr(stored)
    assert message["code"].encode() not in stored.challenges["P1"].code_mac


def test_the_full_ceremony_completes_when_everyone_signed(room: Room) -> None:
    version, ceremony = opened(room)
    done = room.sign_all(version, ceremony)
    assert done.status == "complete"
    assert done.missing == []
    signature = done.signatures["P2"]
    assert signature.version_digest == version.digest
    assert signature.method == "drawn"
    assert signature.ip == "192.0.2.10" and signature.user_agent == "pytest"
    assert signature.signed_at == room.clock.now


def test_a_wrong_code_is_refused_and_counts_against_the_signer(room: Room) -> None:
    version, ceremony = opened(room)
    cid = ceremony.ceremony_id
    room.signing.send_code(cid, "P1")
    real = room.outbox.last_code("P1")
    wrong = "000000" if real != "000000" else "111111"
    with pytest.raises(CodeInvalid) as caught:
        room.signing.sign(cid, "P1", code=wrong, version_digest=version.digest, typed_name="张三")
    assert "4 tries left" in caught.value.message
    assert caught.value.retryable is True
    # The right code still works after one mistake.
    room.signing.sign(cid, "P1", code=real or "", version_digest=version.digest, typed_name="张三")


def test_an_expired_code_is_refused(room: Room) -> None:
    version, ceremony = opened(room)
    cid = ceremony.ceremony_id
    room.signing.send_code(cid, "P1")
    room.clock.advance(seconds=signature_module.CODE_TTL.total_seconds())
    with pytest.raises(CodeExpired) as caught:
        room.signing.sign(
            cid,
            "P1",
            code=room.outbox.last_code("P1") or "",
            version_digest=version.digest,
            typed_name="张三",
        )
    assert caught.value.code == "code_expired"


def test_repeated_wrong_codes_lock_the_signer_even_with_the_right_code_or_a_new_one(
    room: Room,
) -> None:
    version, ceremony = opened(room)
    cid = ceremony.ceremony_id
    room.signing.send_code(cid, "P1")
    real = room.outbox.last_code("P1") or ""
    wrong = "000000" if real != "000000" else "111111"
    for _ in range(signature_module.MAX_WRONG_CODES - 1):
        with pytest.raises(CodeInvalid):
            room.signing.sign(
                cid, "P1", code=wrong, version_digest=version.digest, typed_name="张三"
            )
    with pytest.raises(SignerLocked):
        room.signing.sign(cid, "P1", code=wrong, version_digest=version.digest, typed_name="张三")
    with pytest.raises(SignerLocked):
        room.signing.sign(cid, "P1", code=real, version_digest=version.digest, typed_name="张三")
    with pytest.raises(SignerLocked):
        room.signing.send_code(cid, "P1")


def test_requesting_too_many_codes_locks_the_signer(room: Room) -> None:
    _, ceremony = opened(room)
    cid = ceremony.ceremony_id
    for _ in range(signature_module.MAX_CODES_SENT):
        room.signing.send_code(cid, "P2")
    with pytest.raises(SignerLocked):
        room.signing.send_code(cid, "P2")


def test_a_code_signs_once_and_a_signer_signs_once(room: Room) -> None:
    version, ceremony = opened(room)
    cid = ceremony.ceremony_id
    room.signing.send_code(cid, "P1")
    code = room.outbox.last_code("P1") or ""
    room.signing.sign(cid, "P1", code=code, version_digest=version.digest, typed_name="张三")
    with pytest.raises(SigningRefused) as caught:
        room.signing.sign(cid, "P1", code=code, version_digest=version.digest, typed_name="张三")
    assert caught.value.code == "already_signed"


def test_signing_without_a_code_sent_is_refused(room: Room) -> None:
    version, ceremony = opened(room)
    with pytest.raises(SigningRefused) as caught:
        room.signing.sign(
            ceremony.ceremony_id,
            "P1",
            code="123456",
            version_digest=version.digest,
            typed_name="张三",
        )
    assert caught.value.code == "code_not_sent"


def test_someone_who_is_not_a_signer_is_refused(room: Room) -> None:
    _, ceremony = opened(room)
    with pytest.raises(SigningRefused) as caught:
        room.signing.send_code(ceremony.ceremony_id, "expert-7")
    assert caught.value.code == "not_a_signer"


def test_a_signature_must_name_the_digest_of_the_version_on_screen(room: Room) -> None:
    _, ceremony = opened(room)
    cid = ceremony.ceremony_id
    room.signing.send_code(cid, "P1")
    with pytest.raises(SigningRefused) as caught:
        room.signing.sign(
            cid,
            "P1",
            code=room.outbox.last_code("P1") or "",
            version_digest="0" * 64,
            typed_name="张三",
        )
    assert caught.value.code == "digest_mismatch"


def test_an_edit_after_signing_voids_the_collected_signatures(room: Room) -> None:
    version, ceremony = opened(room)
    cid = ceremony.ceremony_id
    for signer, name in (("P1", "张三"), ("P2", "示例物业管理有限公司")):
        room.signing.send_code(cid, signer)
        room.signing.sign(
            cid,
            signer,
            code=room.outbox.last_code(signer) or "",
            version_digest=version.digest,
            typed_name=name,
        )
    room.signing.send_code(cid, "mediator")
    pending_code = room.outbox.last_code("mediator") or ""

    v2 = room.drafts.edit(version.draft_id, demo_agreement(Matter.tort), "m", 1)
    voided = room.signing.void_superseded(version.draft_id)
    assert sorted(s.signer_id for s in voided) == ["P1", "P2"]
    stale = room.signing.ceremonies.get(cid)
    assert stale.status == "void" and "version 2" in stale.void_reason
    with pytest.raises(VersionSuperseded) as caught:
        room.signing.sign(
            cid,
            "mediator",
            code=pending_code,
            version_digest=version.digest,
            typed_name="赵调解",
        )
    assert caught.value.code == "version_superseded"

    fresh = room.signing.open(v2.draft_id)
    assert fresh.version_number == 2 and fresh.signatures == {}
    assert room.sign_all(v2, fresh).status == "complete"


def test_an_edit_voids_signatures_even_when_nobody_calls_void_superseded(room: Room) -> None:
    version, ceremony = opened(room)
    cid = ceremony.ceremony_id
    room.signing.send_code(cid, "P1")
    code = room.outbox.last_code("P1") or ""
    room.drafts.edit(version.draft_id, demo_agreement(Matter.tort), "m", 1)
    with pytest.raises(VersionSuperseded):
        room.signing.sign(cid, "P1", code=code, version_digest=version.digest, typed_name="张三")


@pytest.mark.parametrize("matter", [Matter.marriage, Matter.adoption, Matter.inheritance])
def test_online_signing_is_refused_where_electronic_signatures_do_not_apply(
    room: Room, matter: Matter
) -> None:
    version = room.drafts.create(
        case_number="C-1", kind="agreement", data=demo_agreement(matter), author="m"
    )
    with pytest.raises(ESignatureNotApplicable) as caught:
        room.signing.open(version.draft_id)
    assert caught.value.code == "esign_not_applicable"
    assert "电子签名法" in caught.value.message


@pytest.mark.parametrize(
    "image",
    [
        b"GIF89a" + b"\0" * 100,
        make_png(200, 60)[:-10],
        make_png(200, 60)[:40] + b"X" + make_png(200, 60)[41:],
        make_png(4000, 10),
        make_png(200, 60) + b"\0" * (600 * 1024),
    ],
    ids=["not-png", "truncated", "corrupt-crc", "too-wide", "too-big"],
)
def test_a_drawn_signature_must_be_a_small_well_formed_png(room: Room, image: bytes) -> None:
    version, ceremony = opened(room)
    cid = ceremony.ceremony_id
    room.signing.send_code(cid, "P1")
    with pytest.raises(SignatureImageInvalid):
        room.signing.sign(
            cid,
            "P1",
            code=room.outbox.last_code("P1") or "",
            version_digest=version.digest,
            image_png=image,
        )


def test_a_typed_signature_must_be_the_signers_printed_name(room: Room) -> None:
    version, ceremony = opened(room)
    cid = ceremony.ceremony_id
    room.signing.send_code(cid, "P1")
    with pytest.raises(SigningRefused) as caught:
        room.signing.sign(
            cid,
            "P1",
            code=room.outbox.last_code("P1") or "",
            version_digest=version.digest,
            typed_name="李四",
        )
    assert caught.value.code == "typed_name_mismatch"


def test_codes_never_appear_in_logs(room: Room, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    version, ceremony = opened(room)
    room.sign_all(version, ceremony)
    codes = [json.loads(p.read_text())["code"] for p in room.outbox.directory.glob("*.json")]
    assert len(codes) == 3  # two parties and the mediator
    for code in codes:
        assert code not in caplog.text


class RacingStore(InMemoryCeremonyStore):
    """A store where another signer's save lands just before ours, once."""

    def __init__(self) -> None:
        super().__init__()
        self.races = 1

    def save(self, ceremony: Ceremony) -> None:
        if self.races:
            self.races -= 1
            other = self.get(ceremony.ceremony_id)
            other.revision += 1
            super().save(other)
        super().save(ceremony)


def test_a_signer_who_loses_a_save_race_is_retried_not_refused(room: Room) -> None:
    store = RacingStore()
    signing = SignatureService(room.store, store, room.outbox, clock=room.clock)
    version = room.drafts.create(
        case_number="C-1", kind="agreement", data=demo_agreement(), author="m"
    )
    ceremony = signing.open(version.draft_id)
    signing.send_code(ceremony.ceremony_id, "P1")
    assert len(list(room.outbox.directory.glob("*-P1.json"))) == 1  # sent once, after the win
    store.races = 1
    signing.sign(
        ceremony.ceremony_id,
        "P1",
        code=room.outbox.last_code("P1") or "",
        version_digest=version.digest,
        typed_name="张三",
    )
    assert list(store.get(ceremony.ceremony_id).signatures) == ["P1"]
