"""The ``tiaojie`` command: serve, migrate, and scripting helpers for accounts and invites."""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import json
import sys
from collections.abc import Callable
from typing import Any, Literal

from aiohttp import web

from signaling.features import load_features
from signaling.settings import Settings, SettingsError, load_settings


def _settings(args: argparse.Namespace, **over: Any) -> Settings:
    for k in ("host", "port"):
        if getattr(args, k, None) is not None:
            over[k] = getattr(args, k)
    return load_settings(**over)


def cmd_serve(args: argparse.Namespace) -> int:
    return _serve(_settings(args), "full")


def _serve(settings: Settings, role: Literal["full", "media"]) -> int:
    from signaling import logs
    from signaling.app import build_app
    from signaling.plugins import default_plugins

    logs.configure(settings.log_level, settings.log_json)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    app = build_app(settings, plugins=default_plugins(settings), role=role)
    web.run_app(app, host=settings.host, port=settings.port, print=None,
                access_log=None, shutdown_timeout=5)
    return 0


def cmd_media(args: argparse.Namespace) -> int:
    """A media node: the SFU (and the caption tap) for the sessions placed on it. Signaling
    nodes relay browsers' WebRTC messages to it over Redis, so it serves only its health
    and metrics, on an internal address; browsers reach it over UDP alone.

    With more than one worker (the default: one per core) this process only supervises
    ``tiaojie media --workers 1`` processes on ports ``port``, ``port + 1``, ... (see
    ``signaling.media_workers``)."""
    settings = _settings(args, media_enabled=True)
    if not settings.redis_url:
        print("tiaojie media: TIAOJIE_REDIS_URL is required (media nodes join a cluster)",
              file=sys.stderr)
        return 2
    if not internal_address(settings.host):
        raise SettingsError(f"tiaojie media listens on an internal address only (loopback or "
                            f"private), not {settings.host!r}: its HTTP side is for the "
                            f"operator's health checks and metrics")
    workers = args.workers if args.workers is not None else settings.media_workers
    if workers <= 0:
        from signaling.media_workers import default_worker_count

        workers = default_worker_count()
    if workers == 1:
        return _serve(settings, "media")
    from signaling import logs
    from signaling.media_workers import MediaWorkers, worker_command, worker_environment

    logs.configure(settings.log_level, settings.log_json)
    return MediaWorkers(
        count=workers,
        command=lambda i: worker_command(i, settings.host, settings.port),
        environment=lambda i: worker_environment(i, settings.node_id),
    ).run()


INTERNAL_NETWORKS = tuple(ipaddress.ip_network(n) for n in (
    "127.0.0.0/8", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10",
    "::1/128", "fc00::/7"))
"""Loopback, RFC 1918, shared (RFC 6598) and unique-local IPv6 addresses. Python's
``is_private`` also counts the documentation ranges, which are someone's public ones."""


def internal_address(host: str) -> bool:
    """A loopback or private address literal (or ``localhost``); not 0.0.0.0, not public."""
    if host == "localhost":
        return True
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return False  # a name could resolve anywhere
    return any(ip in net for net in INTERNAL_NETWORKS)


def cmd_migrate(args: argparse.Namespace) -> int:
    from signaling.db.engine import Database
    from signaling.db.migrate import migrate

    settings = _settings(args)
    settings.data_dir.mkdir(parents=True, exist_ok=True)

    async def go() -> None:
        db = Database(settings.database_url)
        await migrate(db)
        await db.close()

    asyncio.run(go())
    print("database is up to date")
    return 0


def cmd_user_create(args: argparse.Namespace) -> int:
    from signaling.accounts import create_user, ensure_office
    from signaling.db.engine import Database
    from signaling.db.migrate import migrate

    settings = _settings(args)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    password = args.password or sys.stdin.readline().rstrip("\n")

    async def go() -> dict[str, str]:
        db = Database(settings.database_url)
        await migrate(db)
        async with db.session() as s:
            office = await ensure_office(s, args.office)
            user = await create_user(s, office_id=office.id, username=args.username,
                                     password=password, role=args.role,
                                     display_name=args.name)
            await s.commit()
            out = {"id": user.id, "username": user.username, "role": user.role,
                   "office_id": office.id}
        await db.close()
        return out

    print(json.dumps(asyncio.run(go())))
    return 0


def cmd_invite_create(args: argparse.Namespace) -> int:
    from signaling.accounts import Principal
    from signaling.db.engine import Database
    from signaling.db.models import User
    from signaling.invites import create_invite, join_url
    from signaling.schemas import InviteIn

    settings = _settings(args)

    async def go() -> dict[str, str]:
        db = Database(settings.database_url)
        async with db.session() as s:
            from sqlalchemy import select
            user = (await s.execute(select(User).where(User.username == args.by))).scalar_one()
            p = Principal(user.id, user.office_id, user.role, user.display_name, user.username,
                          "", "")
            inv, token = await create_invite(s, p, args.session, InviteIn(
                role=args.role, side=args.side, label=args.label or "",
                interpretation=args.interpretation,
                expires_in_hours=args.hours, max_uses=args.max_uses))
        await db.close()
        return {"id": inv.id, "url": join_url(settings.public_url, token), "token": token}

    print(json.dumps(asyncio.run(go())))
    return 0


def cmd_data(args: argparse.Namespace) -> int:
    from signaling import retention
    from signaling.db.engine import Database
    from signaling.db.migrate import migrate

    settings = _settings(args)

    async def go() -> str:
        db = Database(settings.database_url)
        await migrate(db)
        async with db.session() as s:
            if args.data_cmd == "purge":
                report = await retention.purge(s, settings, dry_run=args.dry_run)
                if settings.redis_url:
                    from redis.asyncio import Redis

                    redis = Redis.from_url(settings.redis_url)
                    try:
                        await retention.purge_queued_audio(redis, settings, report,
                                                           dry_run=args.dry_run)
                    finally:
                        await redis.aclose()
                out = retention.describe(report)
            else:
                out = json.dumps(await retention.export_participant(s, args.participant, settings),
                                 ensure_ascii=False, indent=2)
        await db.close()
        return out

    print(asyncio.run(go()))
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="tiaojie", description="Online mediation rooms.")
    sub = p.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the service (embedded defaults: SQLite, one process)")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.set_defaults(func=cmd_serve)

    media = sub.add_parser("media", help="a media node of a cluster (needs TIAOJIE_REDIS_URL): "
                                         "the SFU for the sessions placed on it; HTTP only "
                                         "for /healthz and /metrics, on an internal address")
    media.add_argument("--host")
    media.add_argument("--port", type=int, help="worker i listens on port + i")
    media.add_argument("--workers", type=int,
                       help="SFU worker processes (default TIAOJIE_MEDIA_WORKERS; 0: one per core)")
    media.set_defaults(func=cmd_media)

    mig = sub.add_parser("migrate", help="apply database migrations")
    mig.set_defaults(func=cmd_migrate)

    user = sub.add_parser("user", help="staff accounts").add_subparsers(dest="user_cmd",
                                                                       required=True)
    uc = user.add_parser("create", help="create a staff account")
    uc.add_argument("--username", required=True)
    uc.add_argument("--role", required=True,
                    choices=["mediator", "clerk", "admin", "expert", "head"])
    uc.add_argument("--office", default="默认调解委员会")
    uc.add_argument("--name")
    uc.add_argument("--password", help="read from standard input when omitted")
    uc.set_defaults(func=cmd_user_create)

    inv = sub.add_parser("invite", help="join links").add_subparsers(dest="invite_cmd",
                                                                    required=True)
    ic = inv.add_parser("create", help="create a join link for a session")
    ic.add_argument("--session", required=True)
    ic.add_argument("--by", required=True, help="username of the mediator creating it")
    ic.add_argument("--role", default="party",
                    choices=["party", "representative", "expert", "interpreter", "clerk",
                             "observer"])
    ic.add_argument("--side", choices=list("ABCDEFGHIJKL"),
                    help="A (申请人), B (被申请人), or a side added to the case (C, D, ...)")
    ic.add_argument("--interpretation", choices=["sign", "dialect", "foreign"],
                    help="an interpreter's link: sign language, dialect or foreign language")
    ic.add_argument("--label")
    ic.add_argument("--hours", type=float, default=72)
    ic.add_argument("--max-uses", type=int, default=1)
    ic.set_defaults(func=cmd_invite_create)

    data = sub.add_parser("data", help="the personal-data lifecycle").add_subparsers(
        dest="data_cmd", required=True)
    purge = data.add_parser("purge", help="delete what outlived its retention (and log it)")
    purge.add_argument("--dry-run", action="store_true")
    purge.set_defaults(func=cmd_data)
    export = data.add_parser("export", help="everything stored about one participant, as JSON")
    export.add_argument("--participant", required=True)
    export.set_defaults(func=cmd_data)

    for register in _package_clis():
        register(sub)
    return p


def _package_clis() -> list[Callable[[Any], None]]:
    """Each feature's commands (``tiaojie documents``, ``tiaojie transcribe``, ...)."""
    return [register for feature in load_features() for register in feature.cli_commands()]


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return int(args.func(args))
    except SettingsError as exc:
        print(f"tiaojie: refusing to start: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
