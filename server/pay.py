"""WeChat Pay for the composition root: our real client, talking to WeChat Pay (real mode) or to the
fake WeChat Pay on a loopback port that this process starts (fake mode, `make run` and the tests).

The notify URL WeChat Pay posts to comes from configuration (WECHAT_PAY_NOTIFY_URL, required in
production), else from PUBLIC_BASE_URL, else (development and tests only) from the address this server
listens on; never from a request."""

from __future__ import annotations

import functools
import importlib

from config.settings import Settings
from core.cache import Cache
from wechat.pay.client import WeChatPayClient
from wechat.pay.fake import FakeWeChatPay
from wechat.pay.keys import KeyPair, generate_key_pair

NOTIFY_PATH = "/api/v1/payments/wechatpay/notify"

# Higher domains that take money through payments register their purpose handlers when one of their
# modules is imported (payments.purposes.register). Those modules are listed here, and imported by
# every process that may settle an order (web workers: server.app; job workers: server.worker, both
# import this module), so no order of theirs is settled, expired or refunded without its handler.
# An order whose purpose is not registered is refused, never settled silently.
PAYMENT_PURPOSE_MODULES: tuple[str, ...] = ("bookings.payment", "fund.payments")


def load_payment_purposes() -> None:
    for name in PAYMENT_PURPOSE_MODULES:
        importlib.import_module(name)


load_payment_purposes()
FAKE_AUTO_PAY_SECONDS = 3.0  # fake mode: a demo resident's payment goes through by itself


@functools.cache
def _fake_keys() -> tuple[KeyPair, KeyPair, KeyPair]:
    """The fake's merchant, platform and wrong key pairs, generated once per process (RSA generation
    takes a good part of a second, and every test server runs a fake)."""
    return generate_key_pair(), generate_key_pair(), generate_key_pair()


def notify_url(settings: Settings, serve_location: str) -> str:
    if settings.wechat_pay_notify_url:
        return settings.wechat_pay_notify_url
    base = settings.public_base_url or serve_location or "http://127.0.0.1"
    # The last resort reaches nothing: orders then settle by our own status query alone.
    return base.rstrip("/") + NOTIFY_PATH


def real_client(settings: Settings, cache: Cache, serve_location: str) -> WeChatPayClient:
    return WeChatPayClient(
        sp_mchid=settings.wechat_pay_sp_mchid,
        sp_appid=settings.wechat_pay_sp_appid or settings.wechat_app_id,
        private_key=settings.wechat_pay_private_key,
        cert_serial=settings.wechat_pay_cert_serial,
        apiv3_key=settings.wechat_pay_apiv3_key,
        public_key=settings.wechat_pay_public_key,
        public_key_id=settings.wechat_pay_public_key_id,
        notify_url=notify_url(settings, serve_location),
        cache=cache,
        base_url=settings.wechat_pay_api_base,
    )


async def start_fake(
    settings: Settings, cache: Cache, serve_location: str
) -> tuple[WeChatPayClient, FakeWeChatPay]:
    merchant, platform, wrong = _fake_keys()
    fake = FakeWeChatPay(
        sp_appid=settings.wechat_pay_sp_appid or settings.wechat_app_id,
        merchant=merchant,
        platform=platform,
        wrong_key=wrong,
        auto_pay_after=FAKE_AUTO_PAY_SECONDS,
    )
    await fake.start()
    client = WeChatPayClient(
        **fake.client_options(), notify_url=notify_url(settings, serve_location), cache=cache
    )
    return client, fake
