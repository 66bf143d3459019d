"""Aliyun SMS (Dysmsapi ``SendSms``, API version 2017-05-25) over HTTPS.

Requests are signed as Aliyun's RPC signature (version 1.0) documents it: every
parameter but ``Signature`` is percent-encoded by RFC 3986 (``A-Z a-z 0-9 - _ . ~``
kept, a space as ``%20``), sorted by name and joined as ``k=v&...``; the string to sign
is ``METHOD&%2F&`` followed by that query encoded once more; the signature is
Base64(HMAC-SHA1(AccessKeySecret + "&", string to sign)).

We POST the parameters as a form body rather than a GET query: the code then never sits
in a URL that a proxy might log.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from urllib.parse import quote

from .errors import ChannelUnavailable, GatewayRefused, GatewayUnavailable
from .gateway import HttpGateway, gateway_words
from .message import Channel, Message, Receipt, normalise_mobile

DEFAULT_ENDPOINT = "https://dysmsapi.aliyuncs.com/"
API_VERSION = "2017-05-25"
# Aliyun codes worth another try later: flow control and the gateway's own faults.
_RETRYABLE = ("isv.BUSINESS_LIMIT_CONTROL", "isp.", "Throttling", "ServiceUnavailable")


def percent_encode(value: str) -> str:
    """RFC 3986 percent-encoding of UTF-8, as the RPC signature requires."""
    return quote(value, safe="-_.~")


def canonical_query(params: Mapping[str, str]) -> str:
    """The parameters sorted by name, each name and value percent-encoded."""
    return "&".join(f"{percent_encode(k)}={percent_encode(v)}"
                    for k, v in sorted(params.items()))


def string_to_sign(method: str, params: Mapping[str, str]) -> str:
    return f"{method}&{percent_encode('/')}&{percent_encode(canonical_query(params))}"


def signature(access_key_secret: str, method: str, params: Mapping[str, str]) -> str:
    """Base64 HMAC-SHA1 of the string to sign, keyed with the secret and "&"."""
    mac = hmac.new(f"{access_key_secret}&".encode(), string_to_sign(method, params).encode(),
                   hashlib.sha1)
    return base64.b64encode(mac.digest()).decode("ascii")


class AliyunSms:
    """Sends each purpose's approved template through Aliyun's SendSms."""

    name = "aliyun"
    channels: frozenset[Channel] = frozenset({"sms"})

    def __init__(self, *, access_key_id: str, access_key_secret: str, sign_name: str,
                 templates: Mapping[str, str], endpoint: str = DEFAULT_ENDPOINT,
                 region: str = "cn-hangzhou",
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._key_id = access_key_id
        self._secret = access_key_secret
        self._sign_name = sign_name
        self._templates = dict(templates)
        self._endpoint = endpoint
        self._region = region
        self._clock = clock
        self._http = HttpGateway()

    def request_params(self, message: Message) -> dict[str, str]:
        """Every parameter of the SendSms call for ``message``, without the signature."""
        template = self._templates.get(message.purpose)
        if not template:
            raise ChannelUnavailable(
                f"No Aliyun SMS template is configured for {message.purpose} "
                "(TIAOJIE_SMS_TEMPLATES).")
        phone = normalise_mobile(message.to)
        if phone is None:
            raise ChannelUnavailable("Aliyun SMS sends to mainland mobile numbers only.")
        params = {
            "AccessKeyId": self._key_id,
            "Action": "SendSms",
            "Format": "JSON",
            "PhoneNumbers": phone,
            "RegionId": self._region,
            "SignName": self._sign_name,
            "SignatureMethod": "HMAC-SHA1",
            "SignatureNonce": uuid.uuid4().hex,
            "SignatureVersion": "1.0",
            "TemplateCode": template,
            "TemplateParam": json.dumps(dict(message.params), ensure_ascii=False,
                                        separators=(",", ":")),
            "Timestamp": self._clock().strftime("%Y-%m-%dT%H:%M:%SZ"),
            "Version": API_VERSION,
        }
        if message.reference:
            params["OutId"] = message.reference[:64]
        return params

    async def send(self, message: Message) -> Receipt:
        params = self.request_params(message)
        body = canonical_query(params) + "&Signature=" + percent_encode(
            signature(self._secret, "POST", params))
        _, answer = await self._http.request(
            "POST", self._endpoint, provider="Aliyun", data=body.encode("ascii"),
            headers={"Content-Type": "application/x-www-form-urlencoded"})
        code = str(answer.get("Code", ""))
        if code == "OK":
            return Receipt(self.name, str(answer.get("BizId", "")))
        words = f"Aliyun SMS refused the message: {code} {gateway_words(answer.get('Message'))}"
        if code.startswith(_RETRYABLE):
            raise GatewayUnavailable(words.strip(), code="gateway_busy")
        raise GatewayRefused(words.strip())

    async def close(self) -> None:
        await self._http.close()
