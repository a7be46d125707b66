"""The composition root: create_app(settings) builds Sanic, opens the database and the cache in
listeners, puts services on app.ctx and maps errors to HTTP once."""

from __future__ import annotations

import asyncio
import itertools
import logging

from sanic import Request, Sanic
from sanic.response import HTTPResponse

from config.settings import Settings
from core.cache import Cache, make_cache
from core.jsonutil import dumps
from miniprogram_api import blueprints
from miniprogram_api.context import RequestIdFilter, request_id_of
from miniprogram_api.notices import push_token
from photos.storage import LocalStorage
from server import db
from server.errors import EnvelopeErrorHandler
from wechat import WeChatApi, WeChatClient
from wechat.fake import FakeWeChat

_names = itertools.count()
LOG_FORMAT = "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"


def configure_logging(level: int = logging.INFO) -> None:
    handler = logging.StreamHandler()
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    root = logging.getLogger("wuye")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False


def create_app(
    settings: Settings,
    *,
    cache: Cache | None = None,
    wechat: WeChatApi | None = None,
    manage_db: bool = True,
    background: bool = True,
    name: str | None = None,
) -> Sanic:
    """Build the app. Tests pass their own cache and open the database themselves
    (``manage_db=False``) so that fixtures and requests share one event loop and one connection."""
    settings.check()
    app = Sanic(
        name or f"wuye_{next(_names)}",
        dumps=dumps,
        error_handler=EnvelopeErrorHandler(),
    )
    app.config.REQUEST_MAX_SIZE = settings.request_max_size
    app.config.FALLBACK_ERROR_FORMAT = "json"
    app.config.KEEP_ALIVE_TIMEOUT = 30
    app.config.OAS_TITLE = "住宅小区业主服务小程序 API"
    app.config.OAS_VERSION = "1.0.0"
    app.config.OAS_DESCRIPTION = (
        "业主大会电子表决、公告公示、投诉报事、缴费与服务预约。所有错误以统一的 JSON 信封返回。"
    )
    app.config.OAS_URL_PREFIX = "/docs"
    app.config.OAS_UI_DEFAULT = "swagger"
    app.config.CORS = False
    app.config.HEALTH = False
    app.ext.openapi.add_security_scheme("session", "http", scheme="bearer", bearer_format="opaque")
    app.ctx.settings = settings
    app.ctx.db_ping = db.ping
    app.ctx.hmac_key = settings.hmac_key.encode()
    app.ctx.photo_storage = LocalStorage(settings.media_dir)

    root, api = blueprints()
    app.blueprint(root)
    app.blueprint(api)

    @app.on_request
    async def assign_request_id(request: Request) -> None:
        request_id_of(request)

    @app.on_response
    async def stamp_request_id(request: Request, response: HTTPResponse) -> None:
        response.headers["X-Request-ID"] = request_id_of(request)

    _lifecycle(app, settings, cache, wechat, manage_db)
    if background:
        app.register_listener(_start_clock, "after_server_start")  # type: ignore[arg-type]
        app.register_listener(_stop_clock, "before_server_stop")  # type: ignore[arg-type]
    return app


CLOCK_SECONDS = 5


async def _clock(app: Sanic) -> None:
    """What time alone decides: open, close and finalise motions, seal cast ballots into their chains,
    escalate overdue complaints and close unanswered ones. Every worker runs it; each step is a guarded
    transition or idempotent, so racing workers are safe."""
    from complaints.service import run_periodic
    from voting import lifecycle, sealing

    log = logging.getLogger("wuye.clock")
    while True:
        await asyncio.sleep(CLOCK_SECONDS)
        try:
            await lifecycle.tick()
            await sealing.seal_open_motions()
            await run_periodic()
        except Exception:  # the clock must keep ticking; the error is logged
            log.exception("clock tick failed")


async def _start_clock(app: Sanic) -> None:
    app.ctx.clock_task = asyncio.get_running_loop().create_task(_clock(app))


async def _stop_clock(app: Sanic) -> None:
    app.ctx.clock_task.cancel()


def _lifecycle(
    app: Sanic, settings: Settings, cache: Cache | None, wechat: WeChatApi | None, manage_db: bool
) -> None:
    async def open_resources(app: Sanic) -> None:
        configure_logging()
        app.ctx.cache = cache or make_cache(settings.redis_url)
        app.ctx.fake_wechat = None
        if wechat is not None:
            app.ctx.wechat = wechat
        else:
            base_url = settings.wechat_api_base
            if settings.wechat_mode == "fake":
                # Fake mode (make run): each worker runs the fake WeChat server on a loopback port and
                # our real client talks HTTP to it; a login code "test:<openid>" logs in as that openid.
                app.ctx.fake_wechat = FakeWeChat(settings.wechat_app_id, settings.wechat_app_secret)
                base_url = await app.ctx.fake_wechat.start()
            app.ctx.wechat = WeChatClient(
                settings.wechat_app_id, settings.wechat_app_secret, app.ctx.cache, base_url=base_url
            )
        if manage_db:
            await db.init_db(settings.database_url, pool_max=settings.db_pool_max)

    async def push_to_self(app: Sanic) -> None:
        # Fake mode: the fake delivers content-security verdicts to this server's message-push URL,
        # as WeChat would, so images are checked end to end under `make run` too.
        location = app.serve_location
        if app.ctx.fake_wechat is not None and location.startswith("http") and "<" not in location:
            app.ctx.fake_wechat.deliver_verdicts_to(f"{location}/api/v1/wechat/push", push_token(settings))

    async def close_resources(app: Sanic) -> None:
        if wechat is None:
            await app.ctx.wechat.aclose()
            if app.ctx.fake_wechat is not None:
                await app.ctx.fake_wechat.stop()
        if cache is None:
            await app.ctx.cache.close()
        if manage_db:
            await db.close_db()

    app.register_listener(open_resources, "before_server_start")  # type: ignore[arg-type]
    app.register_listener(close_resources, "after_server_stop")  # type: ignore[arg-type]
    app.register_listener(push_to_self, "after_server_start")  # type: ignore[arg-type]
