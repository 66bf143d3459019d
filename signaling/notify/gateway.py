"""What the HTTPS SMS senders share: one aiohttp session, bounded waits, and the mapping
from transport failures to ``NotifyError``s that never quote the message."""

from __future__ import annotations

from typing import Any

import aiohttp

from signaling.logs import mask

from .errors import GatewayRefused, GatewayUnavailable

TIMEOUT_S = 10.0
"""How long one request to a gateway may take; tests may override."""


class HttpGateway:
    """An aiohttp client session made on first use and closed with the sender."""

    def __init__(self) -> None:
        self._session: aiohttp.ClientSession | None = None

    def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=TIMEOUT_S))
        return self._session

    async def request(self, method: str, url: str, *, provider: str, **kwargs: Any
                      ) -> tuple[int, Any]:
        """(status, parsed JSON body) or a ``NotifyError`` naming only the provider."""
        try:
            async with self.session().request(method, url, **kwargs) as resp:
                status = resp.status
                try:
                    body = await resp.json(content_type=None)
                except (ValueError, aiohttp.ContentTypeError):
                    body = None
        except (TimeoutError, aiohttp.ClientError, OSError) as err:
            raise GatewayUnavailable(
                f"{provider} SMS could not be reached ({type(err).__name__}); try again."
            ) from None
        if status >= 500 and not isinstance(body, dict):
            raise GatewayUnavailable(f"{provider} SMS answered HTTP {status}; try again.")
        if not isinstance(body, dict):
            raise GatewayRefused(f"{provider} SMS answered HTTP {status} without JSON.")
        return status, body

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


def gateway_words(text: object) -> str:
    """A gateway's own error message, bounded and masked (it may echo the number)."""
    return mask(str(text or ""))[:200]
