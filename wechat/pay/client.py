"""Our WeChat Pay API v3 client, partner mode (服务商), public-key mode.

Requests go through wechatpayv3's ``AsyncWeChatPay`` (it builds the partner-mode bodies and paths, signs
each request with our merchant key — ``Authorization: WECHATPAY2-SHA256-RSA2048 ...`` — and verifies
each 2xx answer's signature with the platform public key). Two private attributes of its core are set,
both tested (tests/wechat/pay/): ``_gate_way`` (the base URL, so tests and fake mode reach the fake on
loopback) and ``_client`` (our httpx client, instead of entering the library's async context, so
timeouts and the connection pool are ours and nothing is left open).

Notifications are authenticated and decrypted here (wechat/pay/notify.py), not by the library's
``callback``: it does not check the timestamp, turns every failure into None, and on an unknown
``Wechatpay-Serial`` downloads platform certificates — a request any sender could trigger.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
import time
import zlib
from collections.abc import Awaitable, Mapping
from dataclasses import replace
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import httpx
from wechatpayv3.async_ import AsyncWeChatPay
from wechatpayv3.async_.type import WeChatPayType  # not wechatpayv3.WeChatPayType: another enum

from core import jsonutil
from core.cache import Cache
from core.errors import DomainError, Unavailable, UpstreamError
from wechat.pay import bill, notify
from wechat.pay.errors import (
    PayNotificationRejected,
    PayRequestInvalid,
    WeChatPayAnswerUnverified,
    WeChatPayDuplicateOrder,
    WeChatPayError,
    WeChatPayRefundRefused,
    WeChatPayUnreachable,
    error_for,
)
from wechat.pay.keys import load_private_key, load_public_key
from wechat.pay.protocol import (
    MAX_AMOUNT_FEN,
    MAX_ATTACH_BYTES,
    MAX_DESCRIPTION_BYTES,
    MAX_REASON_CHARS,
    OPENID_PATTERN,
    OUT_REFUND_NO_PATTERN,
    OUT_TRADE_NO_PATTERN,
    SUB_MCHID_PATTERN,
    BillRow,
    PaymentParams,
    PayNotification,
    Refund,
    Transaction,
    WeChatPayApi,
)
from wechat.pay.shapes import Fail, refund_of, transaction_of

DEFAULT_BASE_URL = "https://api.mch.weixin.qq.com"
SHANGHAI = ZoneInfo("Asia/Shanghai")
MAX_BILL_BYTES = 256 * 1024 * 1024  # decompressed; a county's day is far below this
_PREPAY_ID = re.compile(r"[A-Za-z0-9_\-]{1,64}")
_E = TypeVar("_E", bound=DomainError)

log = logging.getLogger("wechat.pay")


def _invalid(field: str, reason: str) -> PayRequestInvalid:
    return PayRequestInvalid(details={"field": field, "reason": reason})


def _match(pattern: str, value: object, field: str) -> str:
    if not isinstance(value, str) or not re.fullmatch(pattern, value):
        raise _invalid(field, f"must match {pattern}")
    return value


def _fen(value: object, field: str, *, minimum: int = 1) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not minimum <= value <= MAX_AMOUNT_FEN:
        raise _invalid(field, f"must be an integer number of fen from {minimum}")
    return value


class WeChatPayClient:
    """Implements ``wechat.pay.protocol.WeChatPayApi``. One instance per worker; the nonce store
    (``cache``) is shared by all workers. Pass ``http`` to share a connection pool (it is then not
    closed by ``aclose``)."""

    def __init__(
        self,
        *,
        sp_mchid: str,
        sp_appid: str,
        private_key: str,
        cert_serial: str,
        apiv3_key: str,
        public_key: str,
        public_key_id: str,
        notify_url: str,
        cache: Cache,
        base_url: str = DEFAULT_BASE_URL,
        http: httpx.AsyncClient | None = None,
        timeout: float = 10,
    ) -> None:
        if not sp_mchid or not sp_appid or not cert_serial or not public_key_id:
            raise ValueError("sp_mchid, sp_appid, cert_serial and public_key_id are required")
        if len(apiv3_key.encode()) != 32:
            raise ValueError("the API v3 key must be 32 bytes")
        if not notify_url.startswith(("https://", "http://")):
            raise ValueError("notify_url must be an absolute URL")
        load_private_key(private_key)  # fail at start, not at the first payment
        self.sp_mchid = sp_mchid
        self.sp_appid = sp_appid
        self._apiv3_key = apiv3_key
        self._public_key = load_public_key(public_key)
        self._public_key_id = public_key_id
        self._cache = cache
        self._base_url = base_url.rstrip("/")
        self._owns_http = http is None
        self._http = http if http is not None else httpx.AsyncClient(timeout=timeout)
        self._pay = AsyncWeChatPay(
            wechatpay_type=WeChatPayType.MINIPROG,
            mchid=sp_mchid,
            private_key=private_key,
            cert_serial_no=cert_serial,
            appid=sp_appid,
            apiv3_key=apiv3_key,
            notify_url=notify_url,
            partner_mode=True,
            public_key=public_key,
            public_key_id=public_key_id,
        )
        self._pay._core._gate_way = self._base_url
        self._pay._core._client = self._http

    def __repr__(self) -> str:
        return f"WeChatPayClient(sp_mchid={self.sp_mchid!r}, base_url={self._base_url!r})"

    async def jsapi_prepay(
        self,
        *,
        sub_mchid: str,
        description: str,
        out_trade_no: str,
        amount_fen: int,
        payer_openid: str,
        time_expire: datetime,
        attach: str = "",
    ) -> str:
        _match(SUB_MCHID_PATTERN, sub_mchid, "sub_mchid")
        _match(OUT_TRADE_NO_PATTERN, out_trade_no, "out_trade_no")
        _match(OPENID_PATTERN, payer_openid, "payer_openid")
        _fen(amount_fen, "amount_fen")
        if not isinstance(description, str) or not description.strip():
            raise _invalid("description", "required")
        if len(description.encode()) > MAX_DESCRIPTION_BYTES:
            raise _invalid("description", f"at most {MAX_DESCRIPTION_BYTES} bytes of UTF-8")
        if len(attach.encode()) > MAX_ATTACH_BYTES:
            raise _invalid("attach", f"at most {MAX_ATTACH_BYTES} bytes of UTF-8")
        if time_expire.tzinfo is None:
            raise _invalid("time_expire", "must be timezone-aware")
        path = "/v3/pay/partner/transactions/jsapi"
        data = await self._json(
            path,
            self._pay.pay(
                description=description,
                out_trade_no=out_trade_no,
                amount={"total": amount_fen, "currency": "CNY"},
                payer={"sp_openid": payer_openid},
                time_expire=time_expire.astimezone(SHANGHAI).isoformat(timespec="seconds"),
                attach=attach or None,
                sub_mchid=sub_mchid,
                pay_type=WeChatPayType.JSAPI,
            ),
        )
        prepay_id = data.get("prepay_id")
        if not isinstance(prepay_id, str) or not _PREPAY_ID.fullmatch(prepay_id):
            raise _logged(WeChatPayError(details={"api": path, "reason": "answer without prepay_id"}))
        return prepay_id

    def payment_params(self, prepay_id: str) -> PaymentParams:
        _match(_PREPAY_ID.pattern, prepay_id, "prepay_id")
        time_stamp = str(int(time.time()))
        nonce_str = secrets.token_hex(16)
        package = f"prepay_id={prepay_id}"
        pay_sign = self._pay.sign([self.sp_appid, time_stamp, nonce_str, package])
        return PaymentParams(self.sp_appid, time_stamp, nonce_str, package, "RSA", pay_sign)

    async def query_order(self, *, sub_mchid: str, out_trade_no: str) -> Transaction:
        _match(SUB_MCHID_PATTERN, sub_mchid, "sub_mchid")
        _match(OUT_TRADE_NO_PATTERN, out_trade_no, "out_trade_no")
        path = "/v3/pay/partner/transactions/out-trade-no/{out_trade_no}"
        data = await self._json(path, self._pay.query(out_trade_no=out_trade_no, sub_mchid=sub_mchid))
        transaction = transaction_of(data, _answer_invalid(path))
        if transaction.out_trade_no != out_trade_no or transaction.sub_mchid != sub_mchid:
            raise _logged(WeChatPayError(details={"api": path, "reason": "answer for another order"}))
        return transaction

    async def close_order(self, *, sub_mchid: str, out_trade_no: str) -> None:
        _match(SUB_MCHID_PATTERN, sub_mchid, "sub_mchid")
        _match(OUT_TRADE_NO_PATTERN, out_trade_no, "out_trade_no")
        path = "/v3/pay/partner/transactions/out-trade-no/{out_trade_no}/close"
        await self._call(path, self._pay.close(out_trade_no=out_trade_no, sub_mchid=sub_mchid))

    async def refund(
        self,
        *,
        sub_mchid: str,
        out_trade_no: str,
        out_refund_no: str,
        refund_fen: int,
        total_fen: int,
        reason: str,
    ) -> Refund:
        _match(SUB_MCHID_PATTERN, sub_mchid, "sub_mchid")
        _match(OUT_TRADE_NO_PATTERN, out_trade_no, "out_trade_no")
        _match(OUT_REFUND_NO_PATTERN, out_refund_no, "out_refund_no")
        _fen(refund_fen, "refund_fen")
        _fen(total_fen, "total_fen")
        if refund_fen > total_fen:
            raise _invalid("refund_fen", "more than the order total")
        if not isinstance(reason, str) or len(reason) > MAX_REASON_CHARS:
            raise _invalid("reason", f"at most {MAX_REASON_CHARS} characters")
        path = "/v3/refund/domestic/refunds"
        data = await self._json(
            path,
            self._pay.refund(
                out_refund_no=out_refund_no,
                amount={"refund": refund_fen, "total": total_fen, "currency": "CNY"},
                out_trade_no=out_trade_no,
                reason=reason or None,
                sub_mchid=sub_mchid,
            ),
        )
        return refund_of(data, _answer_invalid(path))

    async def query_refund(self, *, sub_mchid: str, out_refund_no: str) -> Refund:
        _match(SUB_MCHID_PATTERN, sub_mchid, "sub_mchid")
        _match(OUT_REFUND_NO_PATTERN, out_refund_no, "out_refund_no")
        path = "/v3/refund/domestic/refunds/{out_refund_no}"
        data = await self._json(
            path, self._pay.query_refund(out_refund_no=out_refund_no, sub_mchid=sub_mchid)
        )
        return refund_of(data, _answer_invalid(path))

    async def trade_bill(self, *, bill_date: date, sub_mchid: str | None = None) -> list[BillRow]:
        if sub_mchid is not None:
            _match(SUB_MCHID_PATTERN, sub_mchid, "sub_mchid")
        path = "/v3/bill/tradebill"
        request = self._pay.trade_bill(
            bill_date=bill_date.isoformat(), bill_type="ALL", tar_type="GZIP", sub_mchid=sub_mchid
        )
        status, data = await self._exchange(path, request)
        if status >= 300 and _code(data) == "NO_STATEMENT_EXIST":
            return []  # no trade that day
        data = self._checked(path, status, data)
        url, hash_type, hash_value = data.get("download_url"), data.get("hash_type"), data.get("hash_value")
        if not isinstance(url, str) or hash_type != "SHA1" or not isinstance(hash_value, str):
            raise _logged(WeChatPayError(details={"api": path, "reason": "answer without download_url/SHA1"}))
        # Our signed request goes only to WeChat Pay itself, wherever the answer says the file is.
        target, base = urlsplit(url), urlsplit(self._base_url)
        if (target.scheme, target.netloc) != (base.scheme, base.netloc) or not target.path.startswith(
            "/v3/billdownload/"
        ):
            raise _logged(WeChatPayError(details={"api": path, "reason": "download_url off WeChat Pay"}))
        download = "/v3/billdownload/file"
        status, content = await self._send(download, self._pay.download_bill(url))
        if status != 200:
            raise _logged(error_for(status, "", "", download))
        raw = content.encode() if isinstance(content, str) else bytes(content)
        plain = _gunzip(raw, download)
        # The hash is of the bill itself (decompressed); the download is not signed.
        if not hmac.compare_digest(hashlib.sha1(plain).hexdigest(), hash_value.lower()):  # noqa: S324
            raise _logged(WeChatPayError(details={"api": download, "reason": "bill hash mismatch"}))
        try:
            text = plain.decode("utf-8")
        except UnicodeDecodeError:
            raise _logged(WeChatPayError(details={"api": download, "reason": "bill is not UTF-8"})) from None
        return bill.parse(text)

    async def parse_notification(
        self, headers: Mapping[str, str], body: bytes, *, now: datetime
    ) -> PayNotification:
        try:
            nonce, text = notify.authenticate(
                headers, body, public_key=self._public_key, public_key_id=self._public_key_id, now=now
            )
            key = await notify.remember(self._cache, nonce)
            try:
                notification = notify.decode(text, self._apiv3_key)
            except PayNotificationRejected:
                # Signed by WeChat Pay yet not readable by us (a key mix-up on our side): let the
                # retry through once it is fixed.
                await self._cache.delete(key)
                raise
        except PayNotificationRejected as exc:
            log.warning("wechat pay notification refused: %s %s", exc.error_code, exc.details)
            raise
        return _with_key(notification, key)

    async def forget_notification(self, notification: PayNotification) -> None:
        if notification.nonce_key:
            await self._cache.delete(notification.nonce_key)

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    # --- transport -------------------------------------------------------------------------------

    async def _send(self, api: str, request: Awaitable[tuple[int, Any]]) -> tuple[int, Any]:
        """One exchange through wechatpayv3; errors name the API path (a template), never a key."""
        try:
            return await request
        except httpx.TimeoutException:
            raise _logged(WeChatPayUnreachable(details={"api": api, "reason": "timeout"})) from None
        except httpx.TransportError as exc:
            raise _logged(WeChatPayUnreachable(details={"api": api, "reason": type(exc).__name__})) from None
        except Exception as exc:
            # wechatpayv3 raises bare Exceptions; these two mean the answer's signature did not verify
            # (any other is a bug of ours and goes up as it is)
            text = str(exc)
            if type(exc) is Exception and (
                text == "failed to verify the signature" or text.startswith("wechatpayv3 does not support")
            ):
                raise _logged(WeChatPayAnswerUnverified(details={"api": api, "reason": text[:100]})) from None
            raise

    async def _exchange(self, api: str, request: Awaitable[tuple[int, Any]]) -> tuple[int, dict[str, Any]]:
        status, content = await self._send(api, request)
        if not content:
            return status, {}
        try:
            data = jsonutil.loads(content)
        except ValueError:
            data = None
        if not isinstance(data, dict):
            if status >= 500:
                raise _logged(error_for(status, "", "", api))
            raise _logged(
                WeChatPayError(details={"api": api, "status": status, "reason": "not a JSON object"})
            )
        return status, data

    def _checked(self, api: str, status: int, data: dict[str, Any]) -> dict[str, Any]:
        if 200 <= status < 300:
            return data
        code, message = _code(data), str(data.get("message", ""))
        if code == "INVALID_REQUEST" and "订单号重复" in message:
            raise _logged(
                WeChatPayDuplicateOrder(details={"api": api, "code": code, "message": message[:200]})
            )
        if code == "INVALID_REQUEST" and api == "/v3/refund/domestic/refunds":
            # the order's state does not allow it: unpaid, refunded in full, too old, ...
            raise _logged(
                WeChatPayRefundRefused(details={"api": api, "code": code, "message": message[:200]})
            )
        raise _logged(error_for(status, code, message, api))

    async def _call(self, api: str, request: Awaitable[tuple[int, Any]]) -> dict[str, Any]:
        status, data = await self._exchange(api, request)
        return self._checked(api, status, data)

    async def _json(self, api: str, request: Awaitable[tuple[int, Any]]) -> dict[str, Any]:
        data = await self._call(api, request)
        if not data:
            raise _logged(WeChatPayError(details={"api": api, "reason": "empty answer"}))
        return data


def _code(data: Mapping[str, Any]) -> str:
    code = data.get("code")
    return code if isinstance(code, str) else ""


def _answer_invalid(api: str) -> Fail:
    def fail(reason: str) -> DomainError:
        return _logged(WeChatPayError(details={"api": api, "reason": reason}))

    return fail


def _gunzip(raw: bytes, api: str) -> bytes:
    if raw[:2] != b"\x1f\x8b":
        return raw  # not compressed (tar_type ignored, or a proxy that decompressed it)
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        plain = inflater.decompress(raw, MAX_BILL_BYTES)
    except zlib.error:
        raise _logged(WeChatPayError(details={"api": api, "reason": "bill is not gzip"})) from None
    if inflater.unconsumed_tail:
        raise _logged(WeChatPayError(details={"api": api, "reason": "bill larger than the limit"}))
    return plain


def _with_key(notification: PayNotification, key: str) -> PayNotification:
    return replace(notification, nonce_key=key)


def _logged(error: _E) -> _E:
    level = logging.WARNING if isinstance(error, Unavailable | UpstreamError) else logging.INFO
    log.log(level, "wechat pay call failed: %s %s", error.error_code, error.details)
    return error


if TYPE_CHECKING:

    def _conforms(client: WeChatPayClient) -> WeChatPayApi:  # mypy holds the client to the protocol
        return client
