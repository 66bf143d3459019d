"""Typed keys for what the aiohttp app holds."""

from __future__ import annotations

from aiohttp import web

from signaling.api.registry import ApiRouter
from signaling.context import Services

SERVICES = web.AppKey("services", Services)
API = web.AppKey("api", ApiRouter)
