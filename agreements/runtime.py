"""The documents service inside the running server: one ``Runtime`` per process.

The expensive parts (the seal key, which may be generated on first run; the LibreOffice
converter with its warm profiles) are made on first use and kept in the feature's typed
seat, ``services.get(RUNTIME)``. The feature's lifecycle (``agreements/feature.py``)
stops its sealing jobs at shutdown (``Runtime.close``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from signaling.context import Services, Slot
from signaling.notify import Message, NotifyError
from signaling.tasks import cancel_and_wait

from .ceremony import CeremonyStore
from .draft import DraftService, DraftStore
from .notify import CodeSender, PendingCodes
from .pdf import LibreOfficeConverter
from .seal import CA_FILE, SealConfig, SealKey, load_seal_key
from .signature import SignatureService
from .store_sql import Place, SqlCeremonyStore, SqlDraftStore

log = logging.getLogger("tiaojie.agreements")

SEAL_DRAIN_S = 10.0
"""How long shutdown lets running sealing jobs finish before it cancels them (a cancelled
ceremony stays complete and unsealed: ``draft_seal`` seals it again)."""
MAX_VERIFY_BYTES = 20 * 1024 * 1024
"""Largest PDF the verification route reads; a sealed agreement is well under 1 MB."""

T = TypeVar("T")


@dataclass
class Stores:
    """The library's services over one transaction's stores."""

    drafts: DraftService
    signing: SignatureService
    draft_store: DraftStore
    ceremony_store: CeremonyStore
    db: Session
    """The sync face of the transaction, for the few rows the library does not own."""


def seal_config(settings: Any, development_dir: Path, committee: str) -> SealConfig:
    """The seal the settings name, or the development seal in ``development_dir``."""
    passphrase = settings.seal_passphrase.encode() if settings.seal_passphrase else None
    return SealConfig(data_dir=development_dir, pkcs12_path=settings.seal_pkcs12,
                      pkcs12_passphrase=passphrase, trust_root_path=settings.seal_trust_root,
                      key_path=settings.seal_key, cert_path=settings.seal_certificate,
                      committee=committee)


class Runtime:
    """Per-process singletons of the documents service, made lazily."""

    def __init__(self, services: Services) -> None:
        self.services = services
        data_dir = services.settings.data_dir
        self.sender: CodeSender | None = None
        """A sender that delivers at once (tests); by default codes wait for the commit and
        go through ``services.notifier``."""
        self.converter = LibreOfficeConverter(profile_root=data_dir / "lo-profiles")
        self._seal_root = data_dir / "seal"
        self._seal_keys: dict[str, SealKey] = {}
        self._seal_lock = asyncio.Lock()
        self._draft_locks: dict[str, asyncio.Lock] = {}
        self.tasks: set[asyncio.Task[None]] = set()
        self._sealing: set[str] = set()

    async def seal_key(self, office_id: str, committee: str) -> SealKey:
        """The operator's seal when one is configured (``TIAOJIE_SEAL_PKCS12`` or
        ``TIAOJIE_SEAL_KEY``/``TIAOJIE_SEAL_CERTIFICATE``); otherwise the office's
        development seal, generated into ``<data_dir>/seal/<office_id>`` on first use.

        One development seal per office: each committee seals its own documents (人民调解法
        art. 29), and the certificate names it. A configured seal is the deployment's
        committee's, for every office it serves."""
        async with self._seal_lock:
            key = self._seal_keys.get(office_id)
            if key is None:
                config = seal_config(self.services.settings, self._seal_root / office_id,
                                     committee)
                key = self._seal_keys[office_id] = await asyncio.to_thread(load_seal_key, config)
            return key

    def trust_roots(self) -> list[bytes]:
        """The CA certificates of every office's seal on this server, for verification."""
        roots = [path.read_bytes() for path in sorted(self._seal_root.glob(f"*/{CA_FILE}"))]
        operator = self.services.settings.seal_trust_root
        if operator is not None and operator.is_file():
            roots.append(operator.read_bytes())
        roots += [k.trust_root_pem for k in self._seal_keys.values()
                  if k.trust_root_pem not in roots]
        return roots

    def draft_lock(self, draft_id: str) -> asyncio.Lock:
        """Serialises one draft's steps within this process.

        The database already decides races (see store_sql); the lock spares SQLite,
        whose single writer would answer a lost race with "database is locked" rather
        than a clean conflict, and spares signers a retry on one node.
        """
        lock = self._draft_locks.get(draft_id)
        if lock is None:
            lock = self._draft_locks[draft_id] = asyncio.Lock()
        return lock

    async def run(self, step: Callable[[Stores], T], place: Place | None = None,
                  commit_on: tuple[type[Exception], ...] = ()) -> T:
        """Run one library step in one transaction: commit if it returns, roll back if not.

        ``commit_on`` lists refusals raised after the library saved state that must
        outlive the refusal (a counted wrong code): those commit, then propagate."""
        pending = PendingCodes()
        sender: CodeSender = self.sender if self.sender is not None else pending
        async with self.services.db.session() as session:

            def in_sync(db: Session) -> T:
                draft_store = SqlDraftStore(db, place)
                ceremony_store = SqlCeremonyStore(db)
                return step(
                    Stores(
                        drafts=DraftService(draft_store),
                        signing=SignatureService(draft_store, ceremony_store, sender),
                        draft_store=draft_store,
                        ceremony_store=ceremony_store,
                        db=db,
                    )
                )

            try:
                result = await session.run_sync(in_sync)
                await session.commit()
            except commit_on:
                await session.commit()
                raise
            except BaseException:
                await session.rollback()
                raise
        await self.deliver(pending.messages)
        return result

    async def deliver(self, messages: list[Message]) -> None:
        """Send messages built inside a committed step (a ``NotifyError`` if one fails:
        the code is stored, the signer may ask for another)."""
        if not messages:
            return
        notifier = self.services.notifier
        if notifier is None:
            raise NotifyError("No notifier is configured.", code="channel_unavailable")
        for message in messages:
            await notifier.send(message)

    def seal(self, coro: Coroutine[Any, Any, None], ceremony_id: str) -> None:
        """Run a sealing job in the background, one per ceremony at a time on this node
        (another node's duplicate is stopped by the database's unique key)."""
        if ceremony_id in self._sealing:
            coro.close()
            return
        self._sealing.add(ceremony_id)
        task = asyncio.create_task(coro)
        # Keep a reference, or the task may be collected before it finishes.
        self.tasks.add(task)

        def done(t: asyncio.Task[None]) -> None:
            self.tasks.discard(t)
            self._sealing.discard(ceremony_id)

        task.add_done_callback(done)

    async def close(self, drain_s: float | None = None) -> None:
        """Stop the sealing jobs: let them finish for ``drain_s`` seconds (``SEAL_DRAIN_S``
        by default), then cancel the rest and wait for them to end."""
        tasks = set(self.tasks)
        if not tasks:
            return
        _, pending = await asyncio.wait(
            tasks, timeout=SEAL_DRAIN_S if drain_s is None else drain_s)
        for _task in pending:
            log.warning("closing: a sealing job did not finish in time; cancelled")
        await cancel_and_wait(pending)


RUNTIME = Slot("agreements.runtime", Runtime)
"""The process's documents runtime, in ``Services``."""


def runtime(services: Services) -> Runtime:
    """The process's ``Runtime``, made on first use."""
    found = services.get(RUNTIME)
    if found is None:
        found = services.put(RUNTIME, Runtime(services))
    return found
