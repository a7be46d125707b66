"""Taking a WeChat Pay notification: authenticate and decrypt it (the adapter), apply it (orders or
refunds), and answer as WeChat Pay expects: 204 with no body when taken, 4xx/5xx with
{"code": "FAIL", "message": ...} otherwise, so that it retries what we could not take."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime

from core.errors import DomainError, Unavailable
from payments import errors, orders, refunds
from wechat.pay.errors import PayNotificationRejected
from wechat.pay.protocol import NotifyAnswer, WeChatPayApi, notify_fail, notify_ok

log = logging.getLogger("wuye.payments.notify")


async def take(pay: WeChatPayApi, headers: Mapping[str, str], body: bytes, *, now: datetime) -> NotifyAnswer:
    try:
        notification = await pay.parse_notification(headers, body, now=now)
    except PayNotificationRejected as exc:
        log.warning("payment notification refused: %s", exc.error_code)
        return notify_fail(exc.user_message, 401)
    try:
        if notification.transaction is not None:
            await orders.apply_result(notification.transaction, sp_mchid=pay.sp_mchid, sp_appid=pay.sp_appid)
        elif notification.refund is not None:
            await refunds.apply_refund_result(notification.refund)
        # other events carry nothing we act on: taken
    except (errors.OrderNotFound, errors.RefundNotFound, errors.NotificationMismatch) as exc:
        # Not our order, or not what we asked for: refused, nothing changed.
        log.warning("payment notification %s refused: %s", notification.id, exc.error_code)
        return notify_fail(exc.user_message, 400 if isinstance(exc, errors.NotificationMismatch) else 404)
    except Exception as exc:
        # Our side failed (database down, an order a person must look at): let the retry through.
        await pay.forget_notification(notification)
        if not isinstance(exc, DomainError) or isinstance(exc, Unavailable):
            log.exception("payment notification %s failed", notification.id)
        else:  # e.g. money taken for an order we had closed: a person must look at it
            log.error("payment notification %s not applied: %s", notification.id, exc.error_code)
        message = exc.user_message if isinstance(exc, DomainError) else "处理失败，请稍后重试"
        return notify_fail(message, 503 if isinstance(exc, Unavailable) else 500)
    return notify_ok()
