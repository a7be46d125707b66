"""The composition root: create_app(settings) builds Sanic, opens the database and the cache in
listeners, puts services on app.ctx and maps errors to HTTP once."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from functools import partial
from typing import Any

from sanic import Request, Sanic
from sanic.response import HTTPResponse

import console
from config.settings import Settings
from core.cache import Cache, make_cache
from core.jsonutil import dumps
from miniprogram_api import blueprints, docs, install_openapi
from miniprogram_api.context import RequestIdFilter, request_id_of
from miniprogram_api.notices import push_token
from server import db, ops, pay
from server.errors import EnvelopeErrorHandler
from server.media import close_media, media_storage
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
    freeze_heap: bool = False,
) -> Sanic:
    """Build the app. Tests pass their own cache and open the database themselves
    (``manage_db=False``) so that fixtures and requests share one event loop and one connection.
    ``freeze_heap`` (`python -m server serve`): once the worker has started, what it loaded is left
    out of the garbage collector's full collections (server.heap)."""
    settings.check()
    apply_template_ids(settings)
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
    app.config.OAS_DESCRIPTION = docs.DESCRIPTION
    app.config.OAS_URL_PREFIX = "/docs"
    # sanic-ext's pages load Swagger UI / ReDoc from a CDN: off; miniprogram_api.docs serves /docs locally
    app.config.OAS_UI_DEFAULT = None
    app.config.OAS_UI_SWAGGER = False
    app.config.OAS_UI_REDOC = False
    app.config.CORS = False
    app.config.HEALTH = False
    # sanic-ext would add an OPTIONS route per path after the server starts, refinalising the router for
    # each one (quadratic: ~10 s of every server start here); no client of ours sends a preflight (CORS off)
    app.config.HTTP_AUTO_OPTIONS = False
    # Its HEAD routes the same way (~5 s of every start); _add_head_routes adds them while the app is built
    app.config.HTTP_AUTO_HEAD = False
    app.ext.openapi.describe(app.config.OAS_TITLE, version="1.0.0", description=app.config.OAS_DESCRIPTION)
    app.ext.openapi.add_security_scheme("session", "http", scheme="bearer", bearer_format="opaque")
    app.ctx.settings = settings
    app.ctx.db_ping = db.ping
    if settings.queue_url:
        from server.jobs import ping_queue

        app.ctx.queue_ping = partial(ping_queue, settings.queue_url)
    app.ctx.hmac_key = settings.hmac_key.encode()
    app.ctx.photo_storage = media_storage(settings)

    root, api = blueprints()
    app.blueprint(root)
    app.blueprint(api)
    app.blueprint(console.blueprint())  # the web console under /console/
    docs.install(app, app.config.OAS_TITLE)
    _add_head_routes(app)
    install_openapi()

    @app.on_request
    async def assign_request_id(request: Request) -> None:
        request_id_of(request)

    @app.on_response
    async def stamp_request_id(request: Request, response: HTTPResponse) -> None:
        response.headers["X-Request-ID"] = request_id_of(request)

    _lifecycle(app, settings, cache, wechat, manage_db)
    ops.install(app, settings)  # logs (JSON or text, scrubbed), access lines, /metrics
    if freeze_heap:
        app.register_listener(_freeze_heap, "after_server_start")  # type: ignore[arg-type]
    if background and not settings.queue_url:  # with a queue, `python -m server worker` runs them
        app.register_listener(_start_clock, "after_server_start")  # type: ignore[arg-type]
        app.register_listener(_stop_clock, "before_server_stop")  # type: ignore[arg-type]
    return app


CLOCK_SECONDS = 5


def apply_template_ids(settings: Settings) -> None:
    """Subscribe-message template ids from the settings (NOTIFY_TEMPLATE_IDS) into notify's catalogue;
    in production, events still on the catalogue's stand-in ids are named in the log."""
    from notify import catalogue

    catalogue.configure(dict(settings.notify_template_ids))
    missing = catalogue.placeholders()
    if settings.is_production and missing:
        logging.getLogger("wuye.notify").warning(
            "NOTIFY_TEMPLATE_IDS gives no console template id for: %s (only the inbox shows them)",
            ", ".join(missing),
        )


async def _clock(app: Sanic) -> None:
    """Without a job queue (QUEUE_URL empty, the default): the periodic jobs of server.jobs (open, close
    and finalise motions, seal cast ballots, escalate and close complaints, deliver the outbox, and
    whatever else is registered there) run in this web worker every CLOCK_SECONDS. Each job claims
    its period in the database first, so of several web workers one runs it; each is a guarded
    transition or idempotent besides. See jobs.clock_loop for how a failure or a swallowed
    cancellation is contained."""
    from server import jobs

    await jobs.clock_loop(jobs.JobContext(app.ctx.wechat, app.ctx.wechat_pay), tick=lambda: CLOCK_SECONDS)


async def _freeze_heap(app: Sanic) -> None:
    from server import heap

    heap.freeze()


async def _start_clock(app: Sanic) -> None:
    app.ctx.clock_task = asyncio.get_running_loop().create_task(_clock(app))


async def _stop_clock(app: Sanic) -> None:
    app.ctx.clock_task.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await app.ctx.clock_task


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

    async def open_wechat_pay(app: Sanic) -> None:
        # After the start: without a configured notify URL (development, tests) the fake notifies the
        # address this server listens on, known only now. Before it, pay routes answer 503.
        # A server started by create_server (the tests) has no serve_location: its starter names it.
        location = app.serve_location if "<" not in app.serve_location else getattr(app.ctx, "self_url", "")
        if settings.wechat_pay_mode == "fake":
            app.ctx.wechat_pay, app.ctx.fake_wechat_pay = await pay.start_fake(
                settings, app.ctx.cache, location
            )
        else:
            app.ctx.wechat_pay = pay.real_client(settings, app.ctx.cache, location)
        app.ctx.own_wechat_pay = app.ctx.wechat_pay  # tests may put another client on ctx

    async def push_to_self(app: Sanic) -> None:
        # Fake mode: the fake delivers content-security verdicts to this server's message-push URL,
        # as WeChat would, so images are checked end to end under `make run` too.
        location = app.serve_location
        if app.ctx.fake_wechat is not None and location.startswith("http") and "<" not in location:
            app.ctx.fake_wechat.deliver_verdicts_to(
                f"{location}/api/v1/wechat/push", push_token(settings), aes_key=settings.wechat_push_aes_key
            )

    async def close_resources(app: Sanic) -> None:
        if getattr(app.ctx, "own_wechat_pay", None) is not None:
            await app.ctx.own_wechat_pay.aclose()
        if getattr(app.ctx, "fake_wechat_pay", None) is not None:
            await app.ctx.fake_wechat_pay.stop()
        if wechat is None:
            await app.ctx.wechat.aclose()
            if app.ctx.fake_wechat is not None:
                await app.ctx.fake_wechat.stop()
        if cache is None:
            await app.ctx.cache.close()
        await close_media(app.ctx.photo_storage)
        if manage_db:
            await db.close_db()

    app.register_listener(open_resources, "before_server_start")  # type: ignore[arg-type]
    app.register_listener(close_resources, "after_server_stop")  # type: ignore[arg-type]
    app.register_listener(open_wechat_pay, "after_server_start")  # type: ignore[arg-type]
    app.register_listener(push_to_self, "after_server_start")  # type: ignore[arg-type]


async def _head(request: Request, *args: Any, get_handler: Any, **kwargs: Any) -> Any:
    """HEAD runs the GET handler; Sanic's HTTP layer sends its headers and drops the body."""
    return await get_handler(request, *args, **kwargs)


def _add_head_routes(app: Sanic) -> None:
    """A HEAD route beside every GET route, as sanic-ext's HTTP_AUTO_HEAD does, but before the router
    is first finalised: sanic-ext adds them after the server starts, refinalising once per route."""
    for group in list(app.router.groups.values()):
        if "GET" not in group.methods or "HEAD" in group.methods:
            continue
        for route in group:
            if "GET" in route.methods:
                head = partial(_head, get_handler=route.handler)
                head.__head_of__ = route.handler  # type: ignore[attr-defined]  # checked as its GET twin
                app.add_route(
                    head,
                    group.uri,
                    methods=["HEAD"],
                    strict_slashes=group.strict,
                    name=route.name.split(".", 1)[-1].replace(".", "_") + "_head",
                    host=route.requirements.get("host"),
                    unquote=group.unquote,
                )
