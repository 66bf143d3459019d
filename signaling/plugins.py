"""Optional parts attached at start-up: the SFU and the transcription pipeline.

Each is tried in turn; a part that is switched off leaves a line in the log and the
rest of the service runs. The core imports no feature: the caption pipeline
(``transcription/captions.py``) is found by name, like the features themselves
(``signaling/features.py``), and must be attached before the SFU that it taps.
"""

from __future__ import annotations

import importlib
import logging
from typing import Any

from aiohttp import web

from signaling.app import Plugin
from signaling.context import Services
from signaling.settings import Settings

log = logging.getLogger("tiaojie.plugins")


def default_plugins(settings: Settings) -> list[Plugin]:
    plugins: list[Plugin] = []
    if settings.transcription_enabled:
        plugins.append(start_transcription)
    if settings.media_enabled or settings.redis_url:
        # With Redis a node relays media messages even when it runs no SFU itself.
        plugins.append(start_media)
    return plugins


async def start_media(app: web.Application, services: Services) -> None:
    """Run the SFU in this process and relay its signaling through the hub."""
    from signaling.media_adapter import LocalMedia

    hub = services.hub
    assert hub is not None

    async def send(session_id: str, participant_id: str, message: dict[str, Any]) -> None:
        await hub.media_to_participant(session_id, participant_id, message)

    tap = services.extras.get("tap")
    archive = None
    if services.settings.media_enabled and services.settings.audio_archive:
        from signaling.audio_archive import AudioArchive

        archive = AudioArchive(services.settings, services.db)
        services.extras["audio_archive"] = archive  # closed after the SFU (app.py)
    local = LocalMedia.create(services.settings, send, tap, archive) \
        if services.settings.media_enabled else None
    if services.redis is None:
        assert local is not None
        services.media = local
        log.info("media: SFU in process, announcing %s", services.settings.announced_addresses)
        return
    from signaling.media_cluster import ClusterMedia

    cluster = ClusterMedia(local, services.redis, services.settings.redis_prefix,
                           services.settings.node_id, services.rooms)
    if local is None:  # TURN credentials are minted the same way on every node
        from media.sfu import SFU
        from signaling.media_adapter import media_config

        cluster.turn = LocalMedia(SFU(send=send, tap=None, config=media_config(
            services.settings)))
    cluster.on_speech = hub.sync_speech
    await cluster.start()
    services.media = cluster
    log.info("media: node %s of a cluster, announcing %s", services.settings.node_id,
             services.settings.announced_addresses)


async def start_transcription(app: web.Application, services: Services) -> None:
    """Attach the live transcription pipeline as the SFU's audio tap
    (``transcription.captions.attach_transcription``, imported by name)."""
    try:
        captions = importlib.import_module(CAPTIONS_MODULE)
    except ImportError as exc:  # pragma: no cover - the package is part of the install
        log.warning("transcription unavailable: %s", exc)
        return
    await captions.attach_transcription(app, services)


CAPTIONS_MODULE = "transcription.captions"
"""Where the transcription feature attaches its live pipeline to a starting app."""
