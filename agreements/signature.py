"""Online signing (电子签名法 art. 13): a ceremony per draft version.

Each required signer (every party or its agent, then the mediator; a record's
recorder too) proves who
they are with a one-time code sent to their own phone, then signs with a
drawn image or a typed name. The signature binds to the version's digest, so
it is valid for exactly the text they read: when the draft changes, the
ceremony is void and signing starts over on the new version.

Codes come from ``secrets``, are stored only as an HMAC under a random salt,
compared in constant time, expire, and lock the signer after repeated wrong
tries. A code is never logged; it leaves this module only through the
``CodeSender``.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TypeVar

from .ceremony import Ceremony, CeremonyStore, CodeChallenge, CollectedSignature, Signer
from .context import build_context
from .draft import Clock, DraftId, DraftStore, utc_now
from .errors import (
    CodeExpired,
    CodeInvalid,
    ESignatureNotApplicable,
    SignerLocked,
    SigningRefused,
    VersionConflict,
    VersionSuperseded,
)
from .images import validate_signature_png
from .models import DocumentData
from .notify import CodeSender

CODE_TTL = timedelta(minutes=10)
"""How long a one-time code stays valid; tests may override."""
MAX_WRONG_CODES = 5
"""Wrong codes a signer may enter in one ceremony before being locked."""
MAX_CODES_SENT = 5
"""Codes a signer may request in one ceremony (limits SMS cost and guessing)."""
CODE_DIGITS = 6
SAVE_ATTEMPTS = 3
"""How often a step is redone when another signer's save got in first."""

_T = TypeVar("_T")


def required_signers(data: DocumentData) -> tuple[Signer, ...]:
    """Every party and the mediator (and a record's recorder), in the document's order."""
    contacts = {p.party_id: p.phone for p in data.parties}
    contacts["mediator"] = data.mediator.phone
    if data.recorder is not None:
        contacts["recorder"] = data.recorder.phone
    return tuple(
        Signer(row["signer_id"], row["label"], row["name"], contacts.get(row["signer_id"]))
        for row in build_context(data, "zh-CN")["signers"]
    )


PARTY_ORDER_RULE = "parties in any order, the mediator last, the seal after everyone"
"""人民调解法 art. 29: the agreement takes effect once the parties have signed, the
mediator has signed and the committee's seal is affixed; the mediator signs what the
parties have already signed."""


def _ensure_parties_signed_before_mediator(ceremony: Ceremony, signer_id: str) -> None:
    """The order rule: the mediator signs (and gets a code) only after every party."""
    if signer_id != "mediator":
        return
    waiting = [s.name for s in ceremony.signers
               if s.signer_id not in ("mediator", "recorder")
               and s.signer_id not in ceremony.signatures]
    if waiting:
        raise SigningRefused("the mediator signs after every party; still waiting for: "
                             + ", ".join(waiting), code="mediator_signs_last")


def _mac(salt: bytes, code: str) -> bytes:
    return hmac.new(salt, code.encode("ascii", "replace"), hashlib.sha256).digest()


class SignatureService:
    """Runs signing ceremonies over a ``DraftStore`` and a ``CeremonyStore``."""

    def __init__(
        self,
        drafts: DraftStore,
        ceremonies: CeremonyStore,
        sender: CodeSender,
        clock: Clock = utc_now,
    ) -> None:
        self.drafts = drafts
        self.ceremonies = ceremonies
        self._sender = sender
        self._clock = clock

    def open(self, draft_id: DraftId,
             acting: Mapping[str, tuple[str, str | None]] | None = None) -> Ceremony:
        """Start signing the latest version; voids any earlier ceremony of the draft.

        ``acting`` maps a party's signer id to (agent's name, agent's contact) when an agent
        signs on the party's line, or ("", confirmed contact) when the party signs with a
        contact they confirmed: the code goes there."""
        version = self.drafts.latest_version(draft_id)
        if not version.esign_applies:
            raise ESignatureNotApplicable(
                "electronic signatures do not apply to marriage, adoption or inheritance "
                "(电子签名法 art. 3): print the document for handwritten signatures"
            )
        self.void_superseded(draft_id, reason="a new signing ceremony was opened")
        signers = required_signers(version.data)
        if acting:
            signers = tuple(
                replace(s, acting_name=acting[s.signer_id][0], contact=acting[s.signer_id][1])
                if s.signer_id in acting else s for s in signers)
        ceremony = Ceremony(
            ceremony_id=secrets.token_hex(16),
            draft_id=draft_id,
            version_number=version.number,
            version_digest=version.digest,
            signers=signers,
        )
        self.ceremonies.add(ceremony)
        return ceremony

    def void_superseded(self, draft_id: DraftId, reason: str = "") -> list[CollectedSignature]:
        """Void every open or complete ceremony not on the latest version (or all, with a
        reason, when a new one opens); return the signatures that no longer count."""
        latest = self.drafts.latest_version(draft_id).number
        voided: list[CollectedSignature] = []
        for ceremony in self.ceremonies.for_draft(draft_id):
            if ceremony.status == "void":
                continue
            if ceremony.version_number == latest and not reason:
                continue
            ceremony.status = "void"
            ceremony.void_reason = reason or f"the draft changed to version {latest}"
            ceremony.challenges.clear()
            ceremony.revision += 1
            self.ceremonies.save(ceremony)
            voided.extend(ceremony.signatures.values())
        return voided

    def _live(self, ceremony_id: str) -> Ceremony:
        ceremony = self.ceremonies.get(ceremony_id)
        if ceremony.status == "open":
            latest = self.drafts.latest_version(ceremony.draft_id).number
            if latest != ceremony.version_number:
                self.void_superseded(ceremony.draft_id)
                ceremony = self.ceremonies.get(ceremony_id)
        if ceremony.status == "void":
            raise VersionSuperseded(
                f"this signing round is void ({ceremony.void_reason}); sign the new version"
            )
        return ceremony

    def _retrying(self, action: Callable[[], _T]) -> _T:
        # Signers act at the same time; the store refuses a stale save, and the
        # whole step is redone on fresh state (no code is sent before a save wins).
        for attempt in range(SAVE_ATTEMPTS):
            try:
                return action()
            except VersionConflict:
                if attempt == SAVE_ATTEMPTS - 1:
                    raise
        raise AssertionError("unreachable")

    def send_code(self, ceremony_id: str, signer_id: str) -> datetime:
        """Send a fresh one-time code to the signer; returns its expiry."""
        return self._retrying(lambda: self._send_code_once(ceremony_id, signer_id))

    def _send_code_once(self, ceremony_id: str, signer_id: str) -> datetime:
        ceremony = self._live(ceremony_id)
        signer = ceremony.signer(signer_id)
        if signer_id in ceremony.signatures:
            raise SigningRefused(f"{signer.name} has already signed", code="already_signed")
        _ensure_parties_signed_before_mediator(ceremony, signer_id)
        if ceremony.wrong_codes.get(signer_id, 0) >= MAX_WRONG_CODES:
            raise SignerLocked("too many wrong codes; the mediator must restart signing")
        if ceremony.codes_sent.get(signer_id, 0) >= MAX_CODES_SENT:
            raise SignerLocked("too many codes requested; the mediator must restart signing")
        code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
        salt = secrets.token_bytes(16)
        expires_at = self._clock() + CODE_TTL
        ceremony.challenges[signer_id] = CodeChallenge(salt, _mac(salt, code), expires_at)
        ceremony.codes_sent[signer_id] = ceremony.codes_sent.get(signer_id, 0) + 1
        ceremony.revision += 1
        self.ceremonies.save(ceremony)
        self._sender.send(signer, code, expires_at)
        return expires_at

    def sign(
        self,
        ceremony_id: str,
        signer_id: str,
        *,
        code: str,
        version_digest: str,
        image_png: bytes | None = None,
        typed_name: str | None = None,
        ip: str = "",
        user_agent: str = "",
    ) -> CollectedSignature:
        """Accept a signature if the code, the digest and the mark all check out."""
        return self._retrying(
            lambda: self._sign_once(
                ceremony_id, signer_id, code, version_digest, image_png, typed_name, ip, user_agent
            )
        )

    def _sign_once(
        self,
        ceremony_id: str,
        signer_id: str,
        code: str,
        version_digest: str,
        image_png: bytes | None,
        typed_name: str | None,
        ip: str,
        user_agent: str,
    ) -> CollectedSignature:
        ceremony = self._live(ceremony_id)
        signer = ceremony.signer(signer_id)
        if signer_id in ceremony.signatures:
            raise SigningRefused(f"{signer.name} has already signed", code="already_signed")
        if not hmac.compare_digest(version_digest, ceremony.version_digest):
            raise SigningRefused(
                "the text you are signing is not the current version; reload it",
                code="digest_mismatch",
            )
        _ensure_parties_signed_before_mediator(ceremony, signer_id)
        if ceremony.wrong_codes.get(signer_id, 0) >= MAX_WRONG_CODES:
            raise SignerLocked("too many wrong codes; the mediator must restart signing")
        challenge = ceremony.challenges.get(signer_id)
        if challenge is None:
            raise SigningRefused("no code was sent, or it was used", code="code_not_sent")
        if self._clock() >= challenge.expires_at:
            raise CodeExpired("the code has expired; ask for a new one")
        if not hmac.compare_digest(_mac(challenge.salt, code.strip()), challenge.code_mac):
            wrong = ceremony.wrong_codes.get(signer_id, 0) + 1
            ceremony.wrong_codes[signer_id] = wrong
            if wrong >= MAX_WRONG_CODES:
                ceremony.challenges.pop(signer_id, None)
            ceremony.revision += 1
            self.ceremonies.save(ceremony)
            if wrong >= MAX_WRONG_CODES:
                raise SignerLocked("too many wrong codes; the mediator must restart signing")
            raise CodeInvalid(f"wrong code; {MAX_WRONG_CODES - wrong} tries left")
        signature = self._collect(ceremony, signer, image_png, typed_name, ip, user_agent)
        del ceremony.challenges[signer_id]  # a code is good for one signature only
        ceremony.signatures[signer_id] = signature
        if not ceremony.missing:
            ceremony.status = "complete"
        ceremony.revision += 1
        self.ceremonies.save(ceremony)
        return signature

    def _collect(
        self,
        ceremony: Ceremony,
        signer: Signer,
        image_png: bytes | None,
        typed_name: str | None,
        ip: str,
        user_agent: str,
    ) -> CollectedSignature:
        if (image_png is None) == (typed_name is None):
            raise ValueError("give exactly one of image_png and typed_name")
        if image_png is not None:
            validate_signature_png(image_png)
            mark = hashlib.sha256(image_png).hexdigest()
        else:
            assert typed_name is not None
            typed_name = typed_name.strip()
            expected = signer.acting_name or signer.name
            if typed_name != expected:
                raise SigningRefused(
                    f"the typed name must be the signer's name as printed ({expected})",
                    code="typed_name_mismatch",
                )
            mark = hashlib.sha256(typed_name.encode("utf-8")).hexdigest()
        return CollectedSignature(
            signer_id=signer.signer_id,
            name=signer.name,
            role_label=signer.role_label,
            method="drawn" if image_png is not None else "typed",
            image_png=image_png,
            typed_name=typed_name,
            mark_sha256=mark,
            signed_at=self._clock(),
            ip=ip[:64],
            user_agent=user_agent[:300],
            version_number=ceremony.version_number,
            version_digest=ceremony.version_digest,
        )
