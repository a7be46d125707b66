"""One frozen, typed settings object, read once from the environment (and an optional .env file).

Nothing else in the code base reads os.environ. In production the server refuses to start with a
missing or default secret and names it.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

DEV_SECRET = "dev-only-secret-change-me"  # noqa: S105 - the well-known default that production refuses
DEV_HMAC_KEY = "dev-only-hmac-key-change-me"
DEV_WECHAT_SECRET = "fake-wechat-secret"  # noqa: S105
# 物业管理条例 第十四条: owners are notified of an assembly at least 15 days before (voting.rules has the
# same number; config imports nothing of the domains).
LEGAL_MIN_ANNOUNCE_DAYS = 15
# The longest objection window (ratings): a result must be final in time for the quarter's lists.
MAX_RATING_OBJECTION_DAYS = 30

Environment = Literal["development", "test", "production"]
WeChatMode = Literal["fake", "real"]
LogFormat = Literal["text", "json"]
MediaStorageKind = Literal["local", "s3"]


class SettingsError(ValueError):
    """A setting is missing or wrong; the message names it."""


@dataclass(frozen=True, slots=True)
class Settings:
    environment: Environment = "development"
    database_url: str = "sqlite://var/wuye.sqlite3"
    redis_url: str | None = None
    # The job queue (arq on Redis, e.g. the same server as REDIS_URL with another db number): set, the
    # periodic jobs and the outbox relay run in `python -m server worker` processes; empty, every web
    # worker runs them in process (the default; `make run` needs nothing)
    queue_url: str | None = None
    # Every periodic job's period in seconds, instead of its own (tests and demos that need the jobs
    # to come round in seconds; must divide the minute). Empty: each job's own period.
    job_period_seconds: int | None = None
    media_dir: Path = Path("var/media")
    # Where photos and notice attachments are kept: "local" (files under MEDIA_DIR, one host or a shared
    # file system) or "s3" (an S3-compatible object store, for several hosts; every S3_* below is needed)
    media_storage: MediaStorageKind = "local"
    s3_endpoint_url: str = ""
    s3_bucket: str = ""
    s3_region: str = "us-east-1"
    s3_access_key_id: str = ""
    s3_secret_access_key: str = ""
    s3_prefix: str = ""
    secret_key: str = DEV_SECRET
    hmac_key: str = DEV_HMAC_KEY
    wechat_mode: WeChatMode = "fake"
    wechat_app_id: str = "wx0000000000000000"
    wechat_app_secret: str = DEV_WECHAT_SECRET
    wechat_api_base: str = "https://api.weixin.qq.com"
    # The Token entered in the mini-program console's message-push settings (3-32 letters or digits);
    # empty: derived from SECRET_KEY (see miniprogram_api.notices.push_token)
    wechat_push_token: str = ""
    # The EncodingAESKey of the console's message push (43 characters): set, pushes must come in safe
    # (encrypted) mode, which also authenticates the body; empty: plain JSON mode
    wechat_push_aes_key: str = ""
    # The public address of this server (https://host[/prefix]) from which every external URL is built,
    # e.g. the image URLs WeChat's media check fetches; never taken from a request's Host header.
    # Empty (development and test only): the address a request reached this server on.
    public_base_url: str = ""
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    request_max_size: int = 12 * 1024 * 1024
    json_max_size: int = 1 * 1024 * 1024
    session_ttl: int = 7 * 24 * 3600
    db_pool_max: int = 10
    # Peers (addresses or networks) whose X-Forwarded-* headers are believed; nobody else's are read
    trusted_proxies: tuple[str, ...] = field(default_factory=tuple)
    # The shortest announcement period of a motion. Development and test may lower it (MIN_ANNOUNCE_DAYS=0)
    # to run a whole vote in minutes; production refuses anything below the law's.
    min_announce_days: int = LEGAL_MIN_ANNOUNCE_DAYS
    # Days an inspected property company has to object to an inspection's result (ratings), 1 to
    # MAX_RATING_OBJECTION_DAYS; unobjected results are final when they pass
    rating_objection_days: int = 7
    # Operations (server/ops). METRICS_TOKEN set: GET /metrics answers a scraper sending
    # "Authorization: Bearer <token>"; empty: no /metrics route at all. METRICS_DIR holds
    # prometheus_client's multiprocess files (one set per worker process), wiped when the server starts.
    metrics_token: str = ""
    metrics_dir: Path = Path("var/metrics")
    # "json": one JSON object per log line (production's default); "text": for people (development's)
    log_format: LogFormat = "text"
    # WeChat Pay API v3 as a service provider (服务商, partner mode; wechat/pay). "fake": a fake WeChat
    # Pay on loopback with generated keys (development and test); "real": every WECHAT_PAY_* below is
    # required. Keys are PEM text or a path to a PEM file; the platform public key and its id
    # (PUB_KEY_ID_...) come from the merchant platform (public-key mode: no certificate download).
    wechat_pay_mode: WeChatMode = "fake"
    wechat_pay_api_base: str = "https://api.mch.weixin.qq.com"
    wechat_pay_sp_mchid: str = ""
    wechat_pay_sp_appid: str = ""  # empty: WECHAT_APP_ID (the mini-program is the service provider's)
    wechat_pay_private_key: str = field(default="", repr=False)
    wechat_pay_cert_serial: str = ""
    wechat_pay_apiv3_key: str = field(default="", repr=False)
    wechat_pay_public_key: str = ""
    wechat_pay_public_key_id: str = ""
    # Where WeChat Pay posts payment and refund notifications; never taken from a request.
    # Empty (development and test only): built from the address the server listens on.
    wechat_pay_notify_url: str = ""
    # Open311 GeoReport v2 writers (a city platform, a 12319-style hotline): "label:key,label:key".
    # Empty: the Open311 endpoint is read-only. Each label writes as its own account (open311:<label>).
    open311_api_keys: tuple[tuple[str, str], ...] = field(default_factory=tuple, repr=False)
    # Subscribe-message template ids as registered in the mini-program console (订阅消息 → 我的模板):
    # "event=id,event=id" (an event such as motion.opening, or a catalogue placeholder id such as
    # tmpl_booking for every event sharing it). Events not given keep notify/catalogue.py's ids.
    notify_template_ids: tuple[tuple[str, str], ...] = field(default_factory=tuple)

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
        if not self.public_base_url.startswith("https://"):
            problems.append(
                "PUBLIC_BASE_URL is missing or not https:// (the address WeChat fetches images from)"
            )
        if not self.wechat_push_aes_key:
            # Plain mode cannot authenticate a pushed body (replays are refused either way): a forged
            # content-security verdict could publish a photo WeChat never passed.
            problems.append("WECHAT_PUSH_AES_KEY is required in production (safe mode message push)")
        if self.metrics_token and len(self.metrics_token) < 32:
            problems.append("METRICS_TOKEN must be at least 32 characters (or empty: no /metrics)")
        if self.min_announce_days < LEGAL_MIN_ANNOUNCE_DAYS:
            problems.append(f"MIN_ANNOUNCE_DAYS may not be below the legal {LEGAL_MIN_ANNOUNCE_DAYS} days")
        if self.job_period_seconds is not None:
            problems.append("JOB_PERIOD_SECONDS is for tests and demos (every job at one short period)")
        problems += self._wechat_pay_problems()
        if problems:
            raise SettingsError("refusing to start in production: " + "; ".join(problems))

    def _wechat_pay_problems(self) -> list[str]:
        if self.wechat_pay_mode != "real":
            return ["WECHAT_PAY_MODE must be 'real' in production"]
        problems = []
        if not re.fullmatch(r"[0-9]{6,32}", self.wechat_pay_sp_mchid):
            problems.append("WECHAT_PAY_SP_MCHID is missing or not a merchant number")
        if "PRIVATE KEY-----" not in self.wechat_pay_private_key:
            problems.append("WECHAT_PAY_PRIVATE_KEY is missing (the merchant API private key, PEM)")
        if not self.wechat_pay_cert_serial:
            problems.append("WECHAT_PAY_CERT_SERIAL is missing (the merchant API certificate serial)")
        if len(self.wechat_pay_apiv3_key.encode()) != 32:
            problems.append("WECHAT_PAY_APIV3_KEY must be the 32-character API v3 key")
        if "PUBLIC KEY-----" not in self.wechat_pay_public_key:
            problems.append("WECHAT_PAY_PUBLIC_KEY is missing (the WeChat Pay platform public key, PEM)")
        if not self.wechat_pay_public_key_id.startswith("PUB_KEY_ID_"):
            problems.append("WECHAT_PAY_PUBLIC_KEY_ID is missing or not a PUB_KEY_ID_... id")
        if not self.wechat_pay_notify_url.startswith("https://"):
            problems.append("WECHAT_PAY_NOTIFY_URL is missing or not https://")
        if not self.wechat_pay_api_base.startswith("https://"):
            problems.append("WECHAT_PAY_API_BASE must be https://")
        return problems


def _pem(env: Mapping[str, str], name: str) -> str:
    """A PEM given inline (escaped newlines allowed, as in a one-line environment variable) or a path."""
    value = (env.get(name) or "").strip()
    if not value or value.startswith("-----BEGIN"):
        return value.replace("\\n", "\n")
    try:
        text = Path(value).read_text()
    except OSError as exc:
        raise SettingsError(f"{name} is neither PEM text nor a readable file: {exc.strerror}") from exc
    if not text.lstrip().startswith("-----BEGIN"):
        raise SettingsError(f"{name} points to a file that is not PEM")
    return text


def _url(env: Mapping[str, str], name: str, default: str) -> str:
    value = env.get(name) or default
    if value:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.fragment:
            raise SettingsError(f"{name} must be an absolute http(s) URL")
    return value


def _int(env: Mapping[str, str], name: str, default: int, minimum: int = 1) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise SettingsError(f"{name} must be an integer, got {raw!r}") from exc
    if value < minimum:
        raise SettingsError(f"{name} must be at least {minimum}, got {value}")
    return value


def _push_token(value: str) -> str:
    if value and not re.fullmatch(r"[A-Za-z0-9]{3,32}", value):
        raise SettingsError("WECHAT_PUSH_TOKEN must be 3 to 32 letters or digits (WeChat's rule)")
    return value


def _push_aes_key(value: str) -> str:
    # WeChat's EncodingAESKey: 43 base64 characters, which with "=" decode to the 32-byte AES key
    if value and not re.fullmatch(r"[A-Za-z0-9+/]{43}", value):
        raise SettingsError("WECHAT_PUSH_AES_KEY must be the 43-character EncodingAESKey of the console")
    return value


def _base_url(value: str) -> str:
    if not value:
        return ""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise SettingsError(
            "PUBLIC_BASE_URL must be an absolute http(s) URL without query, e.g. https://wuye.example.cn"
        )
    return value.rstrip("/")


def _networks(value: str) -> tuple[str, ...]:
    networks = []
    for item in (p.strip() for p in value.split(",")):
        if not item:
            continue
        try:
            networks.append(str(ipaddress.ip_network(item, strict=False)))
        except ValueError as exc:
            raise SettingsError(f"TRUSTED_PROXIES must list IP addresses or networks, got {item!r}") from exc
    return tuple(networks)


def _choice(env: Mapping[str, str], name: str, default: str, allowed: tuple[str, ...]) -> str:
    value = env.get(name) or default
    if value not in allowed:
        raise SettingsError(f"{name} must be one of {', '.join(allowed)}, got {value!r}")
    return value


def _api_keys(value: str) -> tuple[tuple[str, str], ...]:
    """ "label:key,label:key" → ((label, key), ...); labels are identifiers, keys at least 24 characters."""
    pairs = []
    for item in (p.strip() for p in value.split(",") if p.strip()):
        label, _, key = item.partition(":")
        if not label.isidentifier() or len(key) < 24:
            raise SettingsError("OPEN311_API_KEYS must be label:key pairs, keys of at least 24 characters")
        pairs.append((label, key))
    return tuple(pairs)


def _template_ids(value: str) -> tuple[tuple[str, str], ...]:
    """ "event=id,event=id" → ((event, id), ...); which events exist is checked where the catalogue is."""
    pairs = []
    for item in (p.strip() for p in value.split(",") if p.strip()):
        event, _, template_id = (part.strip() for part in item.partition("="))
        if not (
            event
            and len(event) <= 40
            and all(c.isalnum() or c in "._" for c in event)
            and 0 < len(template_id) <= 64
            and all(c.isalnum() or c in "-_" for c in template_id)
        ):
            raise SettingsError("NOTIFY_TEMPLATE_IDS must be event=template_id pairs separated by commas")
        pairs.append((event, template_id))
    return tuple(pairs)


def from_mapping(env: Mapping[str, str]) -> Settings:
    d = Settings()
    environment = _choice(env, "APP_ENV", "development", ("development", "test", "production"))
    mode = _choice(env, "WECHAT_MODE", "fake", ("fake", "real"))
    settings = Settings(
        environment=environment,  # type: ignore[arg-type]
        database_url=env.get("DATABASE_URL") or d.database_url,
        redis_url=env.get("REDIS_URL") or None,
        queue_url=env.get("QUEUE_URL") or None,
        job_period_seconds=_int(env, "JOB_PERIOD_SECONDS", 0, minimum=0) or None,
        media_dir=Path(env.get("MEDIA_DIR") or d.media_dir),
        media_storage=_choice(env, "MEDIA_STORAGE", "local", ("local", "s3")),  # type: ignore[arg-type]
        s3_endpoint_url=_url(env, "S3_ENDPOINT_URL", ""),
        s3_bucket=env.get("S3_BUCKET") or "",
        s3_region=env.get("S3_REGION") or d.s3_region,
        s3_access_key_id=env.get("S3_ACCESS_KEY_ID") or "",
        s3_secret_access_key=env.get("S3_SECRET_ACCESS_KEY") or "",
        s3_prefix=_s3_prefix(env.get("S3_PREFIX") or ""),
        secret_key=env.get("SECRET_KEY") or d.secret_key,
        hmac_key=env.get("HMAC_KEY") or d.hmac_key,
        wechat_mode=mode,  # type: ignore[arg-type]
        wechat_app_id=env.get("WECHAT_APP_ID") or d.wechat_app_id,
        wechat_app_secret=env.get("WECHAT_APP_SECRET") or d.wechat_app_secret,
        wechat_api_base=env.get("WECHAT_API_BASE") or d.wechat_api_base,
        wechat_push_token=_push_token(env.get("WECHAT_PUSH_TOKEN") or ""),
        wechat_push_aes_key=_push_aes_key(env.get("WECHAT_PUSH_AES_KEY") or ""),
        public_base_url=_base_url(env.get("PUBLIC_BASE_URL") or ""),
        host=env.get("HOST") or d.host,
        port=_int(env, "PORT", d.port),
        workers=_int(env, "WORKERS", d.workers),
        request_max_size=_int(env, "REQUEST_MAX_SIZE", d.request_max_size),
        json_max_size=_int(env, "JSON_MAX_SIZE", d.json_max_size),
        session_ttl=_int(env, "SESSION_TTL", d.session_ttl),
        db_pool_max=_int(env, "DB_POOL_MAX", d.db_pool_max),
        trusted_proxies=_networks(env.get("TRUSTED_PROXIES") or ""),
        min_announce_days=_int(env, "MIN_ANNOUNCE_DAYS", d.min_announce_days, minimum=0),
        rating_objection_days=_int(env, "RATING_OBJECTION_DAYS", d.rating_objection_days),
        metrics_token=env.get("METRICS_TOKEN") or "",
        metrics_dir=Path(env.get("METRICS_DIR") or d.metrics_dir),
        log_format=_choice(  # type: ignore[arg-type]
            env, "LOG_FORMAT", "json" if environment == "production" else "text", ("text", "json")
        ),
        wechat_pay_mode=_choice(env, "WECHAT_PAY_MODE", "fake", ("fake", "real")),  # type: ignore[arg-type]
        wechat_pay_api_base=_url(env, "WECHAT_PAY_API_BASE", d.wechat_pay_api_base),
        wechat_pay_sp_mchid=env.get("WECHAT_PAY_SP_MCHID") or "",
        wechat_pay_sp_appid=env.get("WECHAT_PAY_SP_APPID") or env.get("WECHAT_APP_ID") or d.wechat_app_id,
        wechat_pay_private_key=_pem(env, "WECHAT_PAY_PRIVATE_KEY"),
        wechat_pay_cert_serial=env.get("WECHAT_PAY_CERT_SERIAL") or "",
        wechat_pay_apiv3_key=env.get("WECHAT_PAY_APIV3_KEY") or "",
        wechat_pay_public_key=_pem(env, "WECHAT_PAY_PUBLIC_KEY"),
        wechat_pay_public_key_id=env.get("WECHAT_PAY_PUBLIC_KEY_ID") or "",
        wechat_pay_notify_url=_url(env, "WECHAT_PAY_NOTIFY_URL", ""),
        open311_api_keys=_api_keys(env.get("OPEN311_API_KEYS") or ""),
        notify_template_ids=_template_ids(env.get("NOTIFY_TEMPLATE_IDS") or ""),
    )
    if settings.rating_objection_days > MAX_RATING_OBJECTION_DAYS:
        raise SettingsError(f"RATING_OBJECTION_DAYS may be at most {MAX_RATING_OBJECTION_DAYS}")
    if not settings.database_url.startswith(("sqlite://", "postgres://", "asyncpg://", "psql://")):
        raise SettingsError("DATABASE_URL must be a sqlite:// or postgres:// URL")
    if settings.redis_url and not settings.redis_url.startswith(("redis://", "rediss://", "unix://")):
        raise SettingsError("REDIS_URL must be a redis:// URL")
    if settings.queue_url and not settings.queue_url.startswith(("redis://", "rediss://", "unix://")):
        raise SettingsError("QUEUE_URL must be a redis:// URL")
    if settings.media_storage == "s3":
        missing = [
            name
            for name, value in (
                ("S3_ENDPOINT_URL", settings.s3_endpoint_url),
                ("S3_BUCKET", settings.s3_bucket),
                ("S3_ACCESS_KEY_ID", settings.s3_access_key_id),
                ("S3_SECRET_ACCESS_KEY", settings.s3_secret_access_key),
            )
            if not value
        ]
        if missing:
            raise SettingsError(f"MEDIA_STORAGE=s3 needs {', '.join(missing)}")
    return settings


def _s3_prefix(value: str) -> str:
    """ "" or a path of plain segments ending in "/" ("wuye/", "county-a/media/")."""
    if value and not re.fullmatch(r"((?!\.+/)[A-Za-z0-9._-]+/)+", value):
        raise SettingsError("S3_PREFIX must be empty or plain path segments ending in '/', e.g. 'wuye/'")
    return value


def load_settings(env_file: str | os.PathLike[str] | None = ".env") -> Settings:
    """Read the process environment once; a .env file fills in only what the environment lacks."""
    values: dict[str, str] = {}
    if env_file and Path(env_file).is_file():
        from dotenv import dotenv_values

        values.update({k: v for k, v in dotenv_values(env_file).items() if v is not None})
    values.update(os.environ)
    return from_mapping(values)
