"""The wording of each purpose, in the recipient's language, and the ``Message`` built
from it. Gateways send their own approved template; these texts are what e-mail and the
outbox carry, and the wording operators should register as the template."""

from __future__ import annotations

from collections.abc import Mapping

from .message import Attachment, Message, Purpose

Language = str

_TEXTS: dict[Purpose, dict[str, tuple[str, str]]] = {
    # purpose: language -> (subject, body); {name} are the template's parameters in order.
    "signing_code": {
        "zh": ("调解协议签署验证码",
               "您的调解协议签署验证码为{code}，{minutes}分钟内有效。请勿告知他人，调解员不会向您索要。"),
        "en": ("Your signing code",
               "Your code to sign the mediation agreement is {code}, valid for {minutes} "
               "minutes. Tell no one: the mediator will never ask for it."),
    },
    "document_copy": {
        "zh": ("人民调解协议书（签章版）",
               "案件{case_number}的{document}已签章生效。您可在{days}天内下载您的副本：{url}"),
        "en": ("Your sealed mediation document",
               "The {document} of case {case_number} is signed and sealed. Download your copy "
               "within {days} days: {url}"),
    },
    "session_invite": {
        "zh": ("调解会议邀请",
               "您被邀请参加案件{case_number}的在线调解，时间：{time}。加入链接：{url}"),
        "en": ("Invitation to an online mediation",
               "You are invited to the online mediation of case {case_number} at {time}. "
               "Join: {url}"),
    },
    "session_reminder": {
        "zh": ("调解会议提醒",
               "提醒：案件{case_number}的在线调解将于{time}开始。加入链接：{url}"),
        "en": ("Mediation reminder",
               "Reminder: the online mediation of case {case_number} starts at {time}. "
               "Join: {url}"),
    },
    "deadline_reminder": {
        "zh": ("司法确认期限提醒",
               "案件{case_number}的调解协议申请司法确认的期限为{date}，还剩{days}天。"),
        "en": ("Judicial confirmation deadline",
               "The deadline to apply for judicial confirmation of the agreement in case "
               "{case_number} is {date}: {days} days left."),
    },
    "application_code": {
        "zh": ("调解申请验证码",
               "您申请人民调解的手机验证码为{code}，{minutes}分钟内有效。请勿告知他人。"),
        "en": ("Your application code",
               "Your code to apply for mediation is {code}, valid for {minutes} minutes. "
               "Tell no one."),
    },
    "application_decision": {
        "zh": ("调解申请处理结果",
               "您的调解申请{reference}{decision}。{reason}"),
        "en": ("Your application for mediation",
               "Your application {reference}: {decision}. {reason}"),
    },
    "return_visit_due": {
        "zh": ("回访提醒",
               "提醒：案件{case_number}的调解协议回访于{date}到期，请及时回访并记录协议履行情况。"),
        "en": ("Return visit due",
               "Reminder: the return visit of case {case_number} is due on {date}; please "
               "visit and record whether the agreement was performed."),
    },
}

PARAMS: dict[Purpose, tuple[str, ...]] = {
    "signing_code": ("code", "minutes"),
    "document_copy": ("case_number", "document", "days", "url"),
    "session_invite": ("case_number", "time", "url"),
    "session_reminder": ("case_number", "time", "url"),
    "deadline_reminder": ("case_number", "date", "days"),
    "application_code": ("code", "minutes"),
    "application_decision": ("reference", "decision", "reason"),
    "return_visit_due": ("case_number", "date"),
}
"""Each purpose's parameters, in the order its gateway template numbers them."""


def compose(purpose: Purpose, to: str, params: Mapping[str, object], *,
            language: Language = "zh", attachments: tuple[Attachment, ...] = (),
            reference: str = "", meta: Mapping[str, str] | None = None) -> Message:
    """The message for ``purpose`` to ``to``; every parameter of the purpose is required."""
    names = PARAMS[purpose]
    missing = [n for n in names if n not in params]
    if missing:
        raise ValueError(f"{purpose}: missing parameters {missing}")
    values = {n: str(params[n]) for n in names}
    subject, body = _TEXTS[purpose]["en" if language.startswith("en") else "zh"]
    return Message(purpose=purpose, to=to, params=tuple((n, values[n]) for n in names),
                   text=body.format(**values), subject=subject, attachments=attachments,
                   reference=reference, meta=dict(meta or {}))
