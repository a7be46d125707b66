"""One frozen, typed settings object, read once from the environment (and an optional .env file).

Nothing else in the code base reads os.environ. In production the server refuses to start with a
missing or default secret and names it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

DEV_SECRET = "dev-only-secret-change-me"  # noqa: S105 - the well-known default that production refuses
DEV_HMAC_KEY = "dev-only-hmac-key-change-me"
DEV_WECHAT_SECRET = "fake-wechat-secret"  # noqa: S105

Environment = Literal["development", "test", "production"]
WeChatMode = Literal["fake", "real"]


class SettingsError(ValueError):
    """A setting is missing or wrong; the message names it."""


@dataclass(frozen=True, slots=True)
class Settings:
    environment: Environment = "development"
    database_url: str = "sqlite://var/wuye.sqlite3"
    redis_url: str | None = None
    media_dir: Path = Path("var/media")
    secret_key: str = DEV_SECRET
    hmac_key: str = DEV_HMAC_KEY
    wechat_mode: WeChatMode = "fake"
    wechat_app_id: str = "wx0000000000000000"
    wechat_app_secret: str = DEV_WECHAT_SECRET
    wechat_api_base: str = "https://api.weixin.qq.com"
    # The Token entered in the mini-program console's message-push settings (3-32 letters or digits);
    # empty: derived from SECRET_KEY (see miniprogram_api.notices.push_token)
    wechat_push_token: str = ""
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    request_max_size: int = 12 * 1024 * 1024
    json_max_size: int = 1 * 1024 * 1024
    session_ttl: int = 7 * 24 * 3600
    db_pool_max: int = 10
    trusted_proxies: tuple[str, ...] = field(default_factory=tuple)

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    def check(self) -> None:
        """Refuse settings that would be unsafe where real people's data is."""
        if not self.is_production:
            return
        problems = []
        for name, value, default in (
            ("SECRET_KEY", self.secret_key, DEV_SECRET),
            ("HMAC_KEY", self.hmac_key, DEV_HMAC_KEY),
        ):
            if not value or value == default:
                problems.append(f"{name} is missing or has the development default")
            elif len(value) < 32:
                problems.append(f"{name} must be at least 32 characters")
        if self.wechat_mode != "real":
            problems.append("WECHAT_MODE must be 'real' in production")
        if not self.wechat_app_secret or self.wechat_app_secret == DEV_WECHAT_SECRET:
            problems.append("WECHAT_APP_SECRET is missing or has the development default")
        if problems:
            raise SettingsError("refusing to start in production: " + "; ".join(problems))


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise SettingsError(f"{name} must be an integer, got {raw!r}") from exc
    if value <= 0:
        raise SettingsError(f"{name} must be positive, got {value}")
    return value


def _push_token(value: str) -> str:
    if value and not re.fullmatch(r"[A-Za-z0-9]{3,32}", value):
        raise SettingsError("WECHAT_PUSH_TOKEN must be 3 to 32 letters or digits (WeChat's rule)")
    return value


def _choice(env: Mapping[str, str], name: str, default: str, allowed: tuple[str, ...]) -> str:
    value = env.get(name) or default
    if value not in allowed:
        raise SettingsError(f"{name} must be one of {', '.join(allowed)}, got {value!r}")
    return value


def from_mapping(env: Mapping[str, str]) -> Settings:
    d = Settings()
    environment = _choice(env, "APP_ENV", "development", ("development", "test", "production"))
    mode = _choice(env, "WECHAT_MODE", "fake", ("fake", "real"))
    settings = Settings(
        environment=environment,  # type: ignore[arg-type]
        database_url=env.get("DATABASE_URL") or d.database_url,
        redis_url=env.get("REDIS_URL") or None,
        media_dir=Path(env.get("MEDIA_DIR") or d.media_dir),
        secret_key=env.get("SECRET_KEY") or d.secret_key,
        hmac_key=env.get("HMAC_KEY") or d.hmac_key,
        wechat_mode=mode,  # type: ignore[arg-type]
        wechat_app_id=env.get("WECHAT_APP_ID") or d.wechat_app_id,
        wechat_app_secret=env.get("WECHAT_APP_SECRET") or d.wechat_app_secret,
        wechat_api_base=env.get("WECHAT_API_BASE") or d.wechat_api_base,
        wechat_push_token=_push_token(env.get("WECHAT_PUSH_TOKEN") or ""),
        host=env.get("HOST") or d.host,
        port=_int(env, "PORT", d.port),
        workers=_int(env, "WORKERS", d.workers),
        request_max_size=_int(env, "REQUEST_MAX_SIZE", d.request_max_size),
        json_max_size=_int(env, "JSON_MAX_SIZE", d.json_max_size),
        session_ttl=_int(env, "SESSION_TTL", d.session_ttl),
        db_pool_max=_int(env, "DB_POOL_MAX", d.db_pool_max),
        trusted_proxies=tuple(p for p in (env.get("TRUSTED_PROXIES") or "").split(",") if p),
    )
    if not settings.database_url.startswith(("sqlite://", "postgres://", "asyncpg://", "psql://")):
        raise SettingsError("DATABASE_URL must be a sqlite:// or postgres:// URL")
    if settings.redis_url and not settings.redis_url.startswith(("redis://", "rediss://", "unix://")):
        raise SettingsError("REDIS_URL must be a redis:// URL")
    return settings


def load_settings(env_file: str | os.PathLike[str] | None = ".env") -> Settings:
    """Read the process environment once; a .env file fills in only what the environment lacks."""
    values: dict[str, str] = {}
    if env_file and Path(env_file).is_file():
        from dotenv import dotenv_values

        values.update({k: v for k, v in dotenv_values(env_file).items() if v is not None})
    values.update(os.environ)
    return from_mapping(values)
