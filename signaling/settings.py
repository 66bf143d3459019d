"""Settings: every knob, read from ``TIAOJIE_*`` environment variables or a TOML file.

Embedded defaults run the whole service in one process on SQLite with no Redis.
Production sets ``TIAOJIE_DATABASE_URL`` and ``TIAOJIE_REDIS_URL``.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

DEFAULT_SECRET = "tiaojie-development-secret-change-me"


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
    public_url: str = ""
    """Base URL used in join links; defaults to http://host:port."""
    behind_tls: bool = False
    """True when a TLS-terminating proxy fronts the service (Secure cookies)."""
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
    transcription_claim_idle_ms: int = 30_000
    """A queued utterance left unacknowledged this long by a dead worker is taken over."""
    media_enabled: bool = True
    announced_addresses: list[str] = Field(default_factory=lambda: ["127.0.0.1"])
    """Addresses the media server offers as ICE host candidates."""
    ice_servers: list[dict[str, Any]] = Field(default_factory=list)
    turn_urls: list[str] = Field(default_factory=list)
    turn_secret: str = ""
    turn_ttl_s: int = 3600
    relay_only: bool = False
    retention_days_chat: int = 365
    """Days after a session ends before its chat text is purged."""
    retention_days_transcripts: int = 365
    """Days after a session ends before its transcript is purged (the sealed record stays)."""
    retention_days_evidence: int = 365
    """Days after a session ends before uploaded evidence files are deleted."""
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
        if self.secret_key == DEFAULT_SECRET or len(self.secret_key) < 32:
            problems.append("TIAOJIE_SECRET_KEY must be set to a random value of 32+ characters")
        if not self.behind_tls:
            problems.append("TIAOJIE_BEHIND_TLS must be true (terminate TLS at the proxy)")
        if not self.public_url.startswith("https://"):
            problems.append("TIAOJIE_PUBLIC_URL must be an https:// URL")
        if self.database_url.startswith("sqlite"):
            problems.append("TIAOJIE_DATABASE_URL must point at PostgreSQL in production")
        problems.extend(self.notify_problems())
        if problems:
            raise SettingsError("; ".join(problems))

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


def load_settings(**overrides: Any) -> Settings:
    """Read settings from the environment (and the config file), with overrides on top."""
    return Settings(**overrides)
