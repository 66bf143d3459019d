"""Local stand-ins for Aliyun SMS and Tencent Cloud SMS: aiohttp servers on a free port
that check each request's signature the way the provider documents it, refuse what the
provider would refuse, and record the messages they accept.

The verification here is written from the providers' documents independently of
``signaling.notify`` (it recomputes the strings to sign from the raw request), so a bug
in our signer cannot be hidden by the same bug in the check.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import urllib.parse
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from signaling.notify import PARAMS, Purpose
from tests.conftest import free_port

KEY_ID = "LTAI-test-key-id"
KEY_SECRET = "aliyun-test-secret-never-logged"
SECRET_ID = "AKID-test-secret-id"
SECRET_KEY = "tencent-test-secret-key-never-logged"
APP_ID = "1400000001"
SIGN_NAME = "长宁调解"
TEMPLATES = {"signing_code": "SMS_0001", "document_copy": "SMS_0002",
             "session_invite": "SMS_0003", "session_reminder": "SMS_0004",
             "deadline_reminder": "SMS_0005", "application_code": "SMS_0006",
             "application_decision": "SMS_0007", "return_visit_due": "SMS_0008"}
MAX_SKEW_S = 300


@dataclass
class Sms:
    """One message the gateway accepted."""

    provider: str
    phone: str
    template: str
    params: dict[str, str] | list[str]
    sign_name: str
    reference: str


@dataclass
class LocalGateway:
    """A running stand-in gateway and what it received."""

    url: str
    runner: web.AppRunner
    received: list[Sms] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    """Error codes it answered, in order."""
    fail_next: list[str] = field(default_factory=list)
    """Provider error codes to answer to the next requests (throttling, ...)."""

    def codes_to(self, phone: str) -> list[str]:
        """The signing codes sent to ``phone``, oldest first."""
        out = []
        for m in self.received:
            if m.phone.removeprefix("+86") == phone and m.template == TEMPLATES["signing_code"]:
                out.append(m.params["code"] if isinstance(m.params, dict) else m.params[0])
        return out

    async def close(self) -> None:
        await self.runner.cleanup()


# -- Aliyun: RPC signature v1.0 (HMAC-SHA1 over the canonicalised query) ---------------


def _rfc3986(value: str) -> str:
    # The documents: encode UTF-8; keep A-Z a-z 0-9 - _ . ~; everything else %XY in
    # upper-case hex; a space is %20. Written out by hand rather than with quote().
    out = []
    for byte in value.encode("utf-8"):
        ch = chr(byte)
        if ch.isascii() and (ch.isalnum() or ch in "-_.~"):
            out.append(ch)
        else:
            out.append(f"%{byte:02X}")
    return "".join(out)


def aliyun_expected_signature(method: str, params: dict[str, str], secret: str) -> str:
    pairs = sorted((k, v) for k, v in params.items() if k != "Signature")
    canonical = "&".join(_rfc3986(k) + "=" + _rfc3986(v) for k, v in pairs)
    to_sign = method + "&" + _rfc3986("/") + "&" + _rfc3986(canonical)
    digest = hmac.new((secret + "&").encode(), to_sign.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def _aliyun_app(gw: LocalGateway) -> web.Application:
    nonces: set[str] = set()

    async def handle(request: web.Request) -> web.Response:
        if request.method == "POST":
            raw = (await request.read()).decode("ascii")
        else:
            raw = request.query_string
        params = dict(urllib.parse.parse_qsl(raw, keep_blank_values=True, strict_parsing=True))

        def refuse(code: str, status: int = 400) -> web.Response:
            gw.refused.append(code)
            return web.json_response({"Code": code, "Message": code, "RequestId": "r"},
                                     status=status)

        for name in ("AccessKeyId", "Action", "Format", "PhoneNumbers", "RegionId", "SignName",
                     "SignatureMethod", "SignatureNonce", "SignatureVersion", "TemplateCode",
                     "TemplateParam", "Timestamp", "Version", "Signature"):
            if name not in params:
                return refuse("MissingParameter")
        if params["AccessKeyId"] != KEY_ID:
            return refuse("InvalidAccessKeyId.NotFound", 404)
        if (params["SignatureMethod"], params["SignatureVersion"]) != ("HMAC-SHA1", "1.0"):
            return refuse("InvalidSignatureMethod")
        if params["Action"] != "SendSms" or params["Version"] != "2017-05-25":
            return refuse("InvalidAction")
        if not hmac.compare_digest(aliyun_expected_signature(request.method, params, KEY_SECRET),
                                   params["Signature"]):
            return refuse("SignatureDoesNotMatch")
        stamp = datetime.strptime(params["Timestamp"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        if abs((datetime.now(UTC) - stamp).total_seconds()) > MAX_SKEW_S:
            return refuse("InvalidTimeStamp.Expired")
        if params["SignatureNonce"] in nonces:
            return refuse("SignatureNonceUsed")
        nonces.add(params["SignatureNonce"])
        if gw.fail_next:
            return refuse(gw.fail_next.pop(0), 200)
        if params["SignName"] != SIGN_NAME:
            return refuse("isv.SMS_SIGNATURE_ILLEGAL", 200)
        gw.received.append(Sms("aliyun", params["PhoneNumbers"], params["TemplateCode"],
                               json.loads(params["TemplateParam"]), params["SignName"],
                               params.get("OutId", "")))
        return web.json_response({"Code": "OK", "Message": "OK", "RequestId": "r",
                                  "BizId": f"biz{len(gw.received)}"})

    app = web.Application()
    app.router.add_route("*", "/", handle)
    return app


# -- Tencent: TC3-HMAC-SHA256 -----------------------------------------------------------


def _sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def tencent_expected_signature(request_headers: dict[str, str], signed: list[str], body: bytes,
                               timestamp: str, date: str, service: str, secret_key: str,
                               method: str = "POST", path: str = "/", query: str = "") -> str:
    # Header names and values lower-cased and trimmed, one per line, in SignedHeaders order.
    canonical_headers = "".join(f"{name}:{request_headers[name].strip().lower()}\n"
                                for name in signed)
    canonical = "\n".join([method, path, query, canonical_headers, ";".join(signed),
                           _sha256_hex(body)])
    scope = f"{date}/{service}/tc3_request"
    to_sign = "\n".join(["TC3-HMAC-SHA256", timestamp, scope,
                         _sha256_hex(canonical.encode())])

    def mac(key: bytes, msg: str) -> bytes:
        return hmac.new(key, msg.encode(), hashlib.sha256).digest()

    key = mac(mac(mac(("TC3" + secret_key).encode(), date), service), "tc3_request")
    return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()


def _tencent_app(gw: LocalGateway) -> web.Application:
    async def handle(request: web.Request) -> web.Response:
        body = await request.read()

        def refuse(code: str) -> web.Response:
            gw.refused.append(code)
            return web.json_response({"Response": {"Error": {"Code": code, "Message": code},
                                                   "RequestId": "r"}})

        auth = request.headers.get("Authorization", "")
        if not auth.startswith("TC3-HMAC-SHA256 "):
            return refuse("AuthFailure.SignatureFailure")
        fields = dict(part.strip().split("=", 1) for part in auth[len("TC3-HMAC-SHA256 "):]
                      .split(","))
        secret_id, date, service, terminator = fields.get("Credential", "////").split("/")
        signed = fields.get("SignedHeaders", "").split(";")
        if secret_id != SECRET_ID:
            return refuse("AuthFailure.SecretIdNotFound")
        if terminator != "tc3_request" or service != "sms" or "host" not in signed \
                or "content-type" not in signed:
            return refuse("AuthFailure.SignatureFailure")
        timestamp = request.headers.get("X-TC-Timestamp", "0")
        if abs(time.time() - int(timestamp)) > MAX_SKEW_S:
            return refuse("AuthFailure.SignatureExpire")
        if datetime.fromtimestamp(int(timestamp), UTC).strftime("%Y-%m-%d") != date:
            return refuse("AuthFailure.SignatureFailure")
        lower = {k.lower(): v for k, v in request.headers.items()}
        if any(name not in lower for name in signed):
            return refuse("AuthFailure.SignatureFailure")
        expected = tencent_expected_signature(lower, signed, body, timestamp, date, service,
                                              SECRET_KEY, request.method, request.path,
                                              request.query_string)
        if not hmac.compare_digest(expected, fields.get("Signature", "")):
            return refuse("AuthFailure.SignatureFailure")
        if (request.headers.get("X-TC-Action"), request.headers.get("X-TC-Version")) != \
                ("SendSms", "2021-01-11"):
            return refuse("InvalidAction")
        data: dict[str, Any] = json.loads(body)
        if data.get("SmsSdkAppId") != APP_ID:
            return refuse("InvalidParameterValue.SdkAppIdNotExist")
        if gw.fail_next:
            return refuse(gw.fail_next.pop(0))
        statuses = []
        for phone in data["PhoneNumberSet"]:
            gw.received.append(Sms("tencent", phone, data["TemplateId"],
                                   list(data["TemplateParamSet"]), data["SignName"],
                                   data.get("SessionContext", "")))
            statuses.append({"SerialNo": f"serial{len(gw.received)}", "PhoneNumber": phone,
                             "Fee": 1, "SessionContext": "", "Code": "Ok",
                             "Message": "send success", "IsoCode": "CN"})
        return web.json_response({"Response": {"SendStatusSet": statuses, "RequestId": "r"}})

    app = web.Application()
    app.router.add_post("/", handle)
    return app


async def start_gateway(provider: str) -> LocalGateway:
    """Start the stand-in for ``provider`` ("aliyun" or "tencent") on a free port."""
    gw = LocalGateway(url="", runner=None)  # type: ignore[arg-type]
    app = _aliyun_app(gw) if provider == "aliyun" else _tencent_app(gw)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    gw.url, gw.runner = f"http://127.0.0.1:{port}/", runner
    return gw


def sender_settings(provider: str, gw: LocalGateway) -> dict[str, Any]:
    """Settings (as keyword arguments) that point the service's SMS sender at ``gw``."""
    common = {"notify_sender": provider, "sms_sign_name": SIGN_NAME, "sms_templates": TEMPLATES}
    if provider == "aliyun":
        return {**common, "aliyun_access_key_id": KEY_ID, "aliyun_access_key_secret": KEY_SECRET,
                "aliyun_sms_endpoint": gw.url}
    return {**common, "tencent_secret_id": SECRET_ID, "tencent_secret_key": SECRET_KEY,
            "tencent_sms_app_id": APP_ID, "tencent_sms_endpoint": gw.url}


def sms_of(gw: LocalGateway, purpose: Purpose) -> list[tuple[str, dict[str, str]]]:
    """(phone without +86, parameters) of each message of ``purpose`` the gateway accepted
    (Tencent numbers the parameters: named here in the template's order)."""
    out = []
    for m in gw.received:
        if m.template == TEMPLATES[purpose]:
            params = m.params if isinstance(m.params, dict) else dict(
                zip(PARAMS[purpose], m.params, strict=False))
            out.append((m.phone.removeprefix("+86"), params))
    return out
