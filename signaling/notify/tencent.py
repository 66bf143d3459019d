"""Tencent Cloud SMS (``SendSms``, API version 2021-01-11) over HTTPS.

Requests are signed with TC3-HMAC-SHA256 as Tencent Cloud's "Signature v3" documents it:
the canonical request is ``POST\\n/\\n\\n`` + the canonical headers (``content-type`` and
``host``, lower-case names, each line ending in a newline) + ``\\n`` + the signed header
names + ``\\n`` + hex SHA-256 of the body. The string to sign is the algorithm, the
timestamp, the credential scope ``<UTC date>/sms/tc3_request`` and hex SHA-256 of the
canonical request, one per line. The key is derived by chained HMAC-SHA256:
``"TC3" + SecretKey`` → date → service → ``tc3_request``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from urllib.parse import urlsplit

from .errors import ChannelUnavailable, GatewayRefused, GatewayUnavailable
from .gateway import HttpGateway, gateway_words
from .message import Channel, Message, Receipt, normalise_mobile

DEFAULT_ENDPOINT = "https://sms.tencentcloudapi.com/"
SERVICE = "sms"
API_VERSION = "2021-01-11"
ALGORITHM = "TC3-HMAC-SHA256"
CONTENT_TYPE = "application/json; charset=utf-8"
SIGNED_HEADERS = "content-type;host"
_RETRYABLE = ("LimitExceeded", "InternalError", "RequestLimitExceeded", "ResourceUnavailable")


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode("utf-8"), hashlib.sha256).digest()


def canonical_request(host: str, payload: bytes) -> str:
    headers = f"content-type:{CONTENT_TYPE}\nhost:{host}\n"
    return "\n".join(["POST", "/", "", headers, SIGNED_HEADERS,
                      hashlib.sha256(payload).hexdigest()])


def authorization(secret_id: str, secret_key: str, *, host: str, payload: bytes,
                  timestamp: int) -> str:
    """The ``Authorization`` header for a POST of ``payload`` to ``host`` at ``timestamp``."""
    date = datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")
    scope = f"{date}/{SERVICE}/tc3_request"
    to_sign = "\n".join([ALGORITHM, str(timestamp), scope,
                         hashlib.sha256(canonical_request(host, payload).encode()).hexdigest()])
    key = _hmac(_hmac(_hmac(f"TC3{secret_key}".encode(), date), SERVICE), "tc3_request")
    sig = hmac.new(key, to_sign.encode("utf-8"), hashlib.sha256).hexdigest()
    return (f"{ALGORITHM} Credential={secret_id}/{scope}, SignedHeaders={SIGNED_HEADERS}, "
            f"Signature={sig}")


class TencentSms:
    """Sends each purpose's approved template through Tencent Cloud's SendSms."""

    name = "tencent"
    channels: frozenset[Channel] = frozenset({"sms"})

    def __init__(self, *, secret_id: str, secret_key: str, sdk_app_id: str, sign_name: str,
                 templates: Mapping[str, str], endpoint: str = DEFAULT_ENDPOINT,
                 region: str = "ap-guangzhou",
                 clock: Callable[[], float] = time.time) -> None:
        self._id = secret_id
        self._key = secret_key
        self._app = sdk_app_id
        self._sign_name = sign_name
        self._templates = dict(templates)
        self._endpoint = endpoint
        self._host = urlsplit(endpoint).netloc
        self._region = region
        self._clock = clock
        self._http = HttpGateway()

    def payload(self, message: Message) -> bytes:
        template = self._templates.get(message.purpose)
        if not template:
            raise ChannelUnavailable(
                f"No Tencent SMS template is configured for {message.purpose} "
                "(TIAOJIE_SMS_TEMPLATES).")
        phone = normalise_mobile(message.to)
        if phone is None:
            raise ChannelUnavailable("Tencent SMS sends to mainland mobile numbers only here.")
        body = {
            "PhoneNumberSet": [f"+86{phone}"],
            "SmsSdkAppId": self._app,
            "SignName": self._sign_name,
            "TemplateId": template,
            # Tencent templates number their parameters: the values go in template order.
            "TemplateParamSet": [value for _, value in message.params],
            "SessionContext": message.reference[:512],
        }
        return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")

    def headers(self, payload: bytes, timestamp: int) -> dict[str, str]:
        return {
            "Authorization": authorization(self._id, self._key, host=self._host,
                                           payload=payload, timestamp=timestamp),
            "Content-Type": CONTENT_TYPE,
            "Host": self._host,
            "X-TC-Action": "SendSms",
            "X-TC-Timestamp": str(timestamp),
            "X-TC-Version": API_VERSION,
            "X-TC-Region": self._region,
        }

    async def send(self, message: Message) -> Receipt:
        payload = self.payload(message)
        _, answer = await self._http.request(
            "POST", self._endpoint, provider="Tencent", data=payload,
            headers=self.headers(payload, int(self._clock())))
        response = answer.get("Response")
        if not isinstance(response, Mapping):
            raise GatewayRefused("Tencent SMS answered without a Response.")
        error = response.get("Error")
        if isinstance(error, Mapping):
            self._raise(str(error.get("Code", "")), error.get("Message"))
        statuses = response.get("SendStatusSet") or []
        status = statuses[0] if statuses and isinstance(statuses[0], Mapping) else {}
        code = str(status.get("Code", ""))
        if code.lower() != "ok":
            self._raise(code or "NoStatus", status.get("Message"))
        return Receipt(self.name, str(status.get("SerialNo", "")))

    @staticmethod
    def _raise(code: str, message: object) -> None:
        words = f"Tencent SMS refused the message: {code} {gateway_words(message)}".strip()
        if code.startswith(_RETRYABLE):
            raise GatewayUnavailable(words, code="gateway_busy")
        raise GatewayRefused(words)

    async def close(self) -> None:
        await self._http.close()
