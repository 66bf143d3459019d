"""Settings: every knob, read from ``TIAOJIE_*`` environment variables or a TOML file.

Embedded defaults run the whole service in one process on SQLite with no Redis.
Production sets ``TIAOJIE_DATABASE_URL`` and ``TIAOJIE_REDIS_URL``.
"""

from __future__ import annotations

import ipaddress
import os
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

DEFAULT_SECRET = "tiaojie-development-secret-change-me"
PLACEHOLDER_MARKS = ("change-me", "changeme", "change_me", "change me", "placeholder")
"""Words that mark a value copied from ``.env.example`` or the docs, not chosen."""
MIN_SECRET_CHARS = 32


def is_placeholder(value: str) -> bool:
    """True for a secret nobody chose: the development default or a template value."""
    low = value.lower()
    return value == DEFAULT_SECRET or any(mark in low for mark in PLACEHOLDER_MARKS)


class SettingsError(ValueError):
    """A setting is missing or unsafe; the message names it."""


def _config_file_values() -> dict[str, Any]:
    path = os.environ.get("TIAOJIE_CONFIG")
    if not path:
        return {}
    with open(path, "rb") as fh:
        data = tomllib.load(fh)
    return {str(k).lower(): v for k, v in data.items()}


class _TomlSource(PydanticBaseSettingsSource):
    """Values from the TOML file named by ``TIAOJIE_CONFIG`` (environment wins)."""

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return _config_file_values().get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return _config_file_values()


class Settings(BaseSettings):
    """The service configuration. Each field is documented in the README's table."""

    model_config = SettingsConfigDict(env_prefix="TIAOJIE_", extra="ignore")

    env: Literal["development", "production", "test"] = "development"
    """``production`` refuses unsafe defaults at start-up."""
    host: str = "127.0.0.1"
    port: int = 8080
    data_dir: Path = Path("./var")
    """Where the embedded database, caches, seal keys and uploads live."""
    database_url: str = ""
    """SQLAlchemy async URL; empty means SQLite under ``data_dir``."""
    redis_url: str = ""
    """Empty means in-process fan-out and room state (one node only)."""
    redis_prefix: str = "tiaojie"
    """Prefix of every Redis key and channel, so that deployments can share a server."""
    secret_key: str = DEFAULT_SECRET
    """Signs cookies and derives encryption keys; must be changed in production."""
    previous_secret_keys: list[str] = Field(default_factory=list)
    """Earlier values of ``secret_key``, kept after a rotation so that archived audio
    sealed under them (each chunk names its key id) can still be read."""
    public_url: str = ""
    """Base URL used in join links; defaults to http://host:port."""
    behind_tls: bool = False
    """True when a TLS-terminating proxy fronts the service (Secure cookies)."""
    trusted_proxies: list[str] = Field(default_factory=list)
    """Addresses or networks (CIDR) of the reverse proxies in front of this node. Only a
    connection from one of them has its X-Forwarded-For read; empty: never read."""
    allowed_origins: list[str] = Field(default_factory=list)
    """Origins allowed to open Socket.IO connections; empty means public_url's origin."""
    login_session_hours: int = 12
    invite_default_hours: int = 72
    max_message_bytes: int = 16_384
    """Largest Socket.IO payload accepted, and largest JSON body on the API."""
    chat_max_chars: int = 2_000
    reconnect_grace_s: float = 30.0
    """How long a dropped participant keeps their seat."""
    language: Literal["zh", "en"] = "zh"
    """Default session language for transcription."""
    whisper_model_dir: Path | None = None
    """A local faster-whisper (CTranslate2) model directory; overrides packaged models."""
    model_cache_dir: Path | None = None
    """Where the packaged multilingual model is assembled once; default ``data_dir/models``."""
    transcription_enabled: bool = True
    transcription_queue: bool = False
    """With Redis: finished utterances go to a Redis Streams consumer group served by
    ``tiaojie worker transcription`` processes instead of being decoded in this one."""
    transcription_queue_max_age_s: int = 3600
    """Queued utterance audio (sealed) older than this is trimmed from Redis and never
    transcribed; ``tiaojie data purge`` removes it too."""
    transcription_claim_idle_ms: int = 30_000
    """A queued utterance left unacknowledged this long by a dead worker is taken over."""
    media_enabled: bool = True
    media_workers: int = 0
    """``tiaojie media`` worker processes (one SFU event loop each); 0: one per core."""
    announced_addresses: list[str] = Field(default_factory=lambda: ["127.0.0.1"])
    """Addresses the media server offers as ICE host candidates."""
    ice_servers: list[dict[str, Any]] = Field(default_factory=list)
    turn_urls: list[str] = Field(default_factory=list)
    turn_secret: str = ""
    turn_ttl_s: int = 600
    """Lifetime of a TURN credential. coturn checks it only when allocating, so it bounds
    how long a credential handed to someone later removed can open new relays."""
    relay_only: bool = False
    retention_days_chat: int = 365
    """Days after a session ends before its chat text is purged."""
    retention_days_transcripts: int = 365
    """Days after a session ends before its transcript is purged (the sealed record stays)."""
    retention_days_evidence: int = 365
    """Days after a session ends before uploaded evidence files are deleted."""
    retention_days_audio: int = 365
    """Days after a session ends before its archived audio is deleted."""
    retention_days_applications: int = 365
    """Days after an online application before its attachments are deleted, once its case
    is closed (不予受理 or 归档); the case itself is the office's record."""
    audio_archive: bool = True
    """Record consenting participants' audio (Opus in Ogg, encrypted) while a session's
    recording switch is on; False: no audio is ever written and no indicator shows."""
    rate_limits: dict[str, tuple[int, float]] = Field(default_factory=dict)
    """Abuse limits changed from their defaults, by name: ``{"expert_call": [20, 600]}``
    allows 20 attempts in any 600 s (names in ``signaling/ratelimit.py`` and each package's
    ``limits.py``)."""
    seal_pkcs12: Path | None = None
    """The committee's seal as a PKCS#12 file (key and certificate), outside the data
    directory; production needs this or ``seal_key`` and ``seal_certificate``."""
    seal_key: Path | None = None
    """The committee's seal key (PEM/DER), outside the data directory, with
    ``seal_certificate``."""
    seal_certificate: Path | None = None
    """The certificate of ``seal_key``."""
    seal_passphrase: str = ""
    """Passphrase of the PKCS#12 file or the key, if it has one."""
    seal_trust_root: Path | None = None
    """The CA certificate verifiers should trust for the seal, when it is not in the
    PKCS#12 chain (or the key's certificate is not self-signed)."""
    metrics_token: str = ""
    """Bearer token a Prometheus scraper sends to read ``/metrics``; empty: only
    administrators' logins read it."""
    log_level: str = "INFO"
    log_json: bool = False
    node_id: str = ""
    """Identifies this process in logs, metrics and placement; defaults to host:port."""
    notify_sender: Literal["outbox", "aliyun", "tencent", "smtp"] = "outbox"
    """Who delivers SMS and e-mail (signing codes, copies, invitations); ``outbox`` writes
    files under ``data_dir/outbox`` and is refused in production."""
    sms_sign_name: str = ""
    """The SMS signature (签名) registered with the gateway, e.g. "长宁调解"."""
    sms_templates: dict[str, str] = Field(default_factory=dict)
    """Gateway template id per purpose: signing_code, document_copy, session_invite,
    session_reminder, deadline_reminder."""
    aliyun_access_key_id: str = ""
    aliyun_access_key_secret: str = ""
    aliyun_sms_endpoint: str = "https://dysmsapi.aliyuncs.com/"
    aliyun_sms_region: str = "cn-hangzhou"
    tencent_secret_id: str = ""
    tencent_secret_key: str = ""
    tencent_sms_app_id: str = ""
    """The SmsSdkAppId of the Tencent Cloud SMS application."""
    tencent_sms_endpoint: str = "https://sms.tencentcloudapi.com/"
    tencent_sms_region: str = "ap-guangzhou"
    smtp_host: str = ""
    """A mail server for e-mail recipients (with any sender); empty: no e-mail."""
    smtp_port: int = 587
    smtp_security: Literal["ssl", "starttls", "none"] = "starttls"
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_from: str = ""
    """The From address, e.g. "长宁调解 <tiaojie@example.cn>"."""
    party_copy_days: int = Field(default=30, ge=0, le=3650)
    """Days after a session ends during which each party downloads their copy of a sealed
    document with their seat's resume link."""
    verify_max_bytes: int = Field(default=20 * 1024 * 1024, ge=1024, le=512 * 1024 * 1024)
    """Largest PDF the public verify page (``/verify``, ``POST /api/verify``) reads; a
    larger one is refused with 413 ``pdf_too_large``."""
    deadline_reminder_interval_s: float = Field(default=3600.0, ge=0)
    """How often each node looks for 司法确认 deadline reminders that are due (at 7 days
    and 1 day before); 0 switches the reminders off. Each reminder is sent once, whatever
    the number of nodes."""
    office_time_zone: str = "Asia/Shanghai"
    """The offices' time zone: scheduled sessions are entered, sent and shown in it."""
    session_reminder_interval_s: float = Field(default=60.0, ge=0)
    """How often each node looks for session reminders that are due (the day before and an
    hour before a scheduled session); 0 switches them off. Each is sent once across nodes."""
    return_visit_reminder_interval_s: float = Field(default=900.0, ge=0)
    """How often each node looks for return visits (回访) that came due, to text the case's
    mediator once (at their account's mobile number); 0 switches the texts off."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, _TomlSource(settings_cls), file_secret_settings)

    @field_validator("rate_limits")
    @classmethod
    def _known_limits(cls, value: dict[str, tuple[int, float]]
                      ) -> dict[str, tuple[int, float]]:
        from signaling.ratelimit import known_limits  # ratelimit needs no settings

        for name, (hits, window_s) in value.items():
            if name not in known_limits():
                raise ValueError(f"TIAOJIE_RATE_LIMITS: unknown limit {name!r}; known: "
                                 f"{', '.join(sorted(known_limits()))}")
            if hits < 1 or window_s <= 0:
                raise ValueError(f"TIAOJIE_RATE_LIMITS: {name} needs hits >= 1 and a "
                                 "window > 0 seconds")
        return value
    @field_validator("office_time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _valid_networks(cls, v: list[str]) -> list[str]:
        for item in v:
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise ValueError(f"not an address or network: {item!r}") from None
        return v

    @model_validator(mode="after")
    def _fill_defaults(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite+aiosqlite:///{(self.data_dir / 'tiaojie.db').resolve()}"
        if not self.public_url:
            self.public_url = f"http://{self.host}:{self.port}"
        self.public_url = self.public_url.rstrip("/")
        if not self.node_id:
            self.node_id = f"{self.host}:{self.port}"
        return self

    @property
    def models_dir(self) -> Path:
        return self.model_cache_dir or self.data_dir / "models"

    @property
    def trusted_proxy_networks(self) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        return tuple(ipaddress.ip_network(n, strict=False) for n in self.trusted_proxies)

    @property
    def uses_redis(self) -> bool:
        return bool(self.redis_url)

    @property
    def origins(self) -> list[str]:
        if self.allowed_origins:
            return self.allowed_origins
        return [self.public_url]

    def check_production(self) -> None:
        """Refuse to run production with unsafe settings, naming the one that is wrong.
        Outside production only an incomplete notification sender is refused."""
        if self.env != "production":
            if problems := self.notify_problems():
                raise SettingsError("; ".join(problems))
            return
        problems = []
        if is_placeholder(self.secret_key) or len(self.secret_key) < MIN_SECRET_CHARS:
            problems.append("TIAOJIE_SECRET_KEY must be set to a random value of 32+ characters")
        if not self.behind_tls:
            problems.append("TIAOJIE_BEHIND_TLS must be true (terminate TLS at the proxy)")
        elif not self.trusted_proxies:
            problems.append("TIAOJIE_TRUSTED_PROXIES must name the TLS proxy's address, or "
                            "every client counts as the proxy in the per-address limits")
        if not self.public_url.startswith("https://"):
            problems.append("TIAOJIE_PUBLIC_URL must be an https:// URL")
        if self.database_url.startswith("sqlite"):
            problems.append("TIAOJIE_DATABASE_URL must point at PostgreSQL in production")
        elif not _database_password_ok(self.database_url):
            problems.append("TIAOJIE_DATABASE_URL must carry a chosen database password "
                            "(not empty, not the .env.example value)")
        # docker-compose.yml hands this secret to coturn: an empty one would let anyone
        # mint relay credentials.
        if is_placeholder(self.turn_secret) or len(self.turn_secret) < MIN_SECRET_CHARS:
            problems.append("TIAOJIE_TURN_SECRET must be a random value of 32+ characters "
                            "shared with coturn")
        if self.metrics_token and (is_placeholder(self.metrics_token)
                                   or len(self.metrics_token) < MIN_SECRET_CHARS):
            problems.append("TIAOJIE_METRICS_TOKEN must be empty or a random value of 32+ "
                            "characters")
        problems += self._seal_problems()
        problems += self.notify_problems()
        if problems:
            raise SettingsError("; ".join(problems))

    def _seal_problems(self) -> list[str]:
        """The development seal is generated into the data directory, whose key anyone
        with the volume holds: production seals with the committee's own key, kept
        outside the data volume."""
        paths = {"TIAOJIE_SEAL_PKCS12": self.seal_pkcs12}
        if self.seal_pkcs12 is None:
            paths = {"TIAOJIE_SEAL_KEY": self.seal_key,
                     "TIAOJIE_SEAL_CERTIFICATE": self.seal_certificate}
        missing = [name for name, path in paths.items() if path is None]
        if missing:
            return ["TIAOJIE_SEAL_PKCS12 (or TIAOJIE_SEAL_KEY and TIAOJIE_SEAL_CERTIFICATE) "
                    "must name the committee's seal; the development seal is refused"]
        data = self.data_dir.resolve()
        out = []
        for name, path in paths.items():
            assert path is not None
            if not path.is_file():
                out.append(f"{name} names no readable file")
            elif path.resolve().is_relative_to(data):
                out.append(f"{name} must lie outside the data directory")
        return out


    def notify_problems(self) -> list[str]:
        """What is missing for the chosen sender (and, in production, that it is real)."""
        problems = []
        if self.notify_sender == "outbox" and self.env == "production":
            problems.append("TIAOJIE_NOTIFY_SENDER must be aliyun, tencent or smtp in production "
                            "(the outbox writes signing codes to files anyone with the server "
                            "account can read)")
        needed = {
            "aliyun": ("aliyun_access_key_id", "aliyun_access_key_secret", "sms_sign_name"),
            "tencent": ("tencent_secret_id", "tencent_secret_key", "tencent_sms_app_id",
                        "sms_sign_name"),
            "smtp": ("smtp_host", "smtp_from"),
        }.get(self.notify_sender, ())
        missing = [f"TIAOJIE_{name.upper()}" for name in needed if not getattr(self, name)]
        if missing:
            problems.append(f"TIAOJIE_NOTIFY_SENDER={self.notify_sender} needs "
                            + ", ".join(missing))
        if self.notify_sender in ("aliyun", "tencent") and "signing_code" not in self.sms_templates:
            problems.append("TIAOJIE_SMS_TEMPLATES must name a template for signing_code")
        if self.smtp_host and not self.smtp_from:
            problems.append("TIAOJIE_SMTP_FROM must be set when TIAOJIE_SMTP_HOST is")
        return problems

def _database_password_ok(url: str) -> bool:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        password = make_url(url).password
    except ArgumentError:
        return False
    return bool(password) and not is_placeholder(str(password))


def load_settings(**overrides: Any) -> Settings:
    """Read settings from the environment (and the config file), with overrides on top."""
    return Settings(**overrides)
