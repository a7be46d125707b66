"""The fake WeChat Pay's HTTP side: the v3 partner paths, our request signatures checked, answers
signed with its platform key (see wechat/pay/fake.py for the hooks tests and fake mode use)."""

from __future__ import annotations

import gzip
import hashlib
import re
import secrets
from collections import Counter, deque
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

from core.jsonutil import dumpb, loads
from wechat.fake_http import HttpServer, Request, Response
from wechat.pay import bill, notify
from wechat.pay.fake_records import (
    SHANGHAI,
    ClientOptions,
    FakeOrder,
    FakeRefund,
    bill_row,
    refund_json,
    refund_notification_json,
    transaction_json,
)
from wechat.pay.keys import KeyPair, generate_key_pair, load_private_key, load_public_key, random_apiv3_key
from wechat.pay.protocol import BillRow

SIGNATURE_SKEW = 300
_AUTH = re.compile(r'(\w+)="([^"]*)"')
_ORDER_PATH = re.compile(r"/v3/pay/partner/transactions/out-trade-no/([A-Za-z0-9_\-*]{1,32})(/close)?")
_REFUND_PATH = re.compile(r"/v3/refund/domestic/refunds/([A-Za-z0-9_\-|*@]{1,64})")


def shanghai_now() -> datetime:
    return datetime.now(SHANGHAI).replace(microsecond=0)


def _json(status: int, payload: Any) -> tuple[int, bytes]:
    return status, dumpb(payload)


def _error(status: int, code: str, message: str) -> tuple[int, bytes]:
    return _json(status, {"code": code, "message": message})


def _rfc3339(value: object) -> bool:
    if not isinstance(value, str) or "T" not in value:
        return False
    try:
        return datetime.fromisoformat(value).tzinfo is not None
    except ValueError:
        return False


def _pay_error(status: int) -> Response:
    """WeChat Pay's error form: a malformed request gets an empty 4xx, a failure of the fake itself a
    SYSTEM_ERROR that our client takes for a transient error."""
    if status != 500:
        return Response(status)
    body = b'{"code":"SYSTEM_ERROR","message":"fake server error"}'
    return Response(500, body, {"Content-Type": "application/json"})


class FakePayServer:
    def __init__(
        self,
        sp_mchid: str = "1900000100",
        sp_appid: str = "wx0000000000000000",
        *,
        merchant: KeyPair | None = None,
        apiv3_key: str | None = None,
        platform: KeyPair | None = None,
        wrong_key: KeyPair | None = None,
    ) -> None:
        """Keys not given are generated (tests pass pairs generated once per session: RSA key
        generation takes a good part of a second)."""
        self.sp_mchid = sp_mchid
        self.sp_appid = sp_appid
        self.merchant = merchant or generate_key_pair()
        self.apiv3_key = apiv3_key or random_apiv3_key()
        self.platform = platform or generate_key_pair("PUB_KEY_ID_" + secrets.token_hex(16).upper())
        self._platform_key = load_private_key(self.platform.private_pem)
        self._merchant_key = load_public_key(self.merchant.public_pem)
        self.base_url: str | None = None
        self.orders: dict[tuple[str, str], FakeOrder] = {}
        self.refunds: dict[tuple[str, str], FakeRefund] = {}
        self.calls: Counter[str] = Counter()
        self.sign_answers_with_wrong_key = False
        self._wrong_key = load_private_key((wrong_key or generate_key_pair()).private_pem)
        self._failures: dict[str, deque[tuple[int, str, str]]] = {}
        self._bill_edits: dict[date, Callable[[list[BillRow]], list[BillRow]]] = {}
        self._downloads: dict[str, bytes] = {}
        self._seen_nonces: set[str] = set()
        self._http = HttpServer(self._handle, _pay_error)

    @property
    def platform_public_key(self) -> str:
        return self.platform.public_pem

    @property
    def platform_public_key_id(self) -> str:
        return self.platform.serial

    def client_options(self) -> ClientOptions:
        """WeChatPayClient keyword arguments for this fake (add cache and notify_url)."""
        if self.base_url is None:
            raise RuntimeError("start the fake first")
        return {
            "sp_mchid": self.sp_mchid,
            "sp_appid": self.sp_appid,
            "private_key": self.merchant.private_pem,
            "cert_serial": self.merchant.serial,
            "apiv3_key": self.apiv3_key,
            "public_key": self.platform_public_key,
            "public_key_id": self.platform_public_key_id,
            "base_url": self.base_url,
        }

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        self.base_url = await self._http.start(host, port)
        return self.base_url

    async def stop(self) -> None:
        await self._http.stop()

    def fail_next(
        self, route: str, status: int = 500, code: str = "SYSTEM_ERROR", message: str = "系统错误"
    ) -> None:
        """The next call to ``route`` (jsapi, query, close, refund, query_refund, tradebill, download)
        answers this error."""
        self._failures.setdefault(route, deque()).append((status, code, message))

    def order(self, out_trade_no: str, sub_mchid: str | None = None) -> FakeOrder:
        matches = [
            o for (sub, no), o in self.orders.items() if no == out_trade_no and sub_mchid in (None, sub)
        ]
        if len(matches) != 1:
            raise KeyError(out_trade_no)
        return matches[0]

    def refund(self, out_refund_no: str) -> FakeRefund:
        matches = [r for (_, no), r in self.refunds.items() if no == out_refund_no]
        if len(matches) != 1:
            raise KeyError(out_refund_no)
        return matches[0]

    def transaction_json(self, order: FakeOrder) -> dict[str, Any]:
        return transaction_json(order)

    def refund_json(self, refund: FakeRefund) -> dict[str, Any]:
        return refund_json(refund, self.order(refund.out_trade_no, refund.sub_mchid))

    def refund_notification_json(self, refund: FakeRefund) -> dict[str, Any]:
        return refund_notification_json(refund, self.order(refund.out_trade_no, refund.sub_mchid))

    # --- the trade bill ----------------------------------------------------------------------

    def edit_bill(self, bill_date: date, edit: Callable[[list[BillRow]], list[BillRow]]) -> None:
        """Alter the day's bill file (add, drop or change lines) to test reconciliation."""
        self._bill_edits[bill_date] = edit

    def bill_rows(self, bill_date: date, sub_mchid: str | None = None) -> list[BillRow]:
        """The day's lines (Asia/Shanghai): a SUCCESS line per payment, a REFUND line per refund."""
        rows = []
        for order in self.orders.values():
            if order.success_time is None or order.success_time.astimezone(SHANGHAI).date() != bill_date:
                continue
            settlement = order.amount_total
            rows.append(bill_row(order, order.success_time, "SUCCESS", settlement=settlement))
        for refund in self.refunds.values():
            if refund.create_time.astimezone(SHANGHAI).date() != bill_date:
                continue
            order = self.order(refund.out_trade_no, refund.sub_mchid)
            rows.append(bill_row(order, refund.create_time, "REFUND", refund=refund))
        rows = [r for r in rows if sub_mchid in (None, r.sub_mchid)]
        rows.sort(key=lambda r: r.trade_time)
        edit = self._bill_edits.get(bill_date)
        return edit(rows) if edit else rows

    def _order_created(self, order: FakeOrder) -> None:
        """Called for each new order (FakeWeChatPay may pay it by itself)."""

    # --- HTTP --------------------------------------------------------------------------------

    async def _handle(self, request: Request) -> Response:
        route, handler = self._route(request)
        self.calls[route] += 1
        if not self._authorized(request):
            status, body = _error(401, "SIGN_ERROR", "签名错误")
        elif self._failures.get(route):
            status, body = _error(*self._failures[route].popleft())
        else:
            try:
                payload = loads(request.body) if request.body else {}
            except ValueError:
                payload = None
            if request.body and not isinstance(payload, dict):
                status, body = _error(400, "PARAM_ERROR", "请求体不是合法的JSON")
            else:
                status, body = handler(request, payload or {})
        if route == "download" and status == 200:
            return Response(200, body, {"Content-Type": "application/octet-stream"})
        text = "" if status == 204 else body.decode()
        key = self._wrong_key if self.sign_answers_with_wrong_key else self._platform_key
        headers = {"Content-Type": "application/json; charset=utf-8", "Request-ID": secrets.token_hex(16)}
        headers |= notify.signed_headers(key, self.platform.serial, text)
        return Response(status, b"" if status == 204 else body, headers)

    def _route(self, request: Request) -> tuple[str, Callable[[Request, dict[str, Any]], tuple[int, bytes]]]:
        path, method = request.path, request.method
        if method == "POST" and path == "/v3/pay/partner/transactions/jsapi":
            return "jsapi", self._jsapi
        match = _ORDER_PATH.fullmatch(path)
        if match and method == "GET" and not match.group(2):
            return "query", lambda r, _: self._query(r, match.group(1))
        if match and method == "POST" and match.group(2):
            return "close", lambda _, p: self._close(p, match.group(1))
        if method == "POST" and path == "/v3/refund/domestic/refunds":
            return "refund", self._refund
        match = _REFUND_PATH.fullmatch(path)
        if match and method == "GET":
            return "query_refund", lambda r, _: self._query_refund(r, match.group(1))
        if method == "GET" and path == "/v3/bill/tradebill":
            return "tradebill", self._tradebill
        if method == "GET" and path == "/v3/billdownload/file":
            return "download", self._download
        return "unknown", lambda _r, _p: _error(404, "NOT_FOUND", "接口不存在")

    def _authorized(self, request: Request) -> bool:
        auth = request.headers.get("authorization", "")
        scheme, _, rest = auth.partition(" ")
        if scheme != "WECHATPAY2-SHA256-RSA2048":
            return False
        fields = dict(_AUTH.findall(rest))
        timestamp, nonce = fields.get("timestamp", ""), fields.get("nonce_str", "")
        if fields.get("mchid") != self.sp_mchid or fields.get("serial_no") != self.merchant.serial:
            return False
        if not timestamp.isdigit() or abs(int(timestamp) - shanghai_now().timestamp()) > SIGNATURE_SKEW:
            return False
        if not nonce or nonce in self._seen_nonces:
            return False
        message = f"{request.method}\n{request.target}\n{timestamp}\n{nonce}\n{request.body.decode()}\n"
        if not notify.verify(self._merchant_key, message, fields.get("signature", "")):
            return False
        self._seen_nonces.add(nonce)
        return True

    def _jsapi(self, _: Request, p: dict[str, Any]) -> tuple[int, bytes]:
        amount, payer = p.get("amount"), p.get("payer")
        if p.get("sp_appid") != self.sp_appid or p.get("sp_mchid") != self.sp_mchid:
            return _error(400, "PARAM_ERROR", "sp_appid或sp_mchid与请求的商户不一致")
        sub, no, desc = p.get("sub_mchid"), p.get("out_trade_no"), p.get("description")
        if not isinstance(sub, str) or not sub.isdigit():
            return _error(400, "PARAM_ERROR", "sub_mchid不合法")
        if not isinstance(no, str) or not re.fullmatch(r"[A-Za-z0-9_\-*]{6,32}", no):
            return _error(400, "PARAM_ERROR", "out_trade_no不合法")
        if not isinstance(desc, str) or not desc or len(desc.encode()) > 127:
            return _error(400, "PARAM_ERROR", "description长度不合法")
        if not isinstance(amount, dict) or not isinstance(amount.get("total"), int) or amount["total"] < 1:
            return _error(400, "PARAM_ERROR", "amount.total不合法")
        if not isinstance(payer, dict) or not isinstance(payer.get("sp_openid"), str):
            return _error(400, "PARAM_ERROR", "payer.sp_openid不能为空")
        notify_url = p.get("notify_url")
        if not isinstance(notify_url, str) or not notify_url.startswith(("https://", "http://")):
            return _error(400, "PARAM_ERROR", "notify_url不合法")
        if "time_expire" in p and not _rfc3339(p["time_expire"]):
            return _error(400, "PARAM_ERROR", "time_expire格式不正确，应为rfc3339格式")
        fields = (
            desc,
            amount["total"],
            payer["sp_openid"],
            str(p.get("attach", "")),
            str(p.get("time_expire", "")),
        )
        existing = self.orders.get((sub, no))
        if existing is not None:
            if existing.trade_state in ("SUCCESS", "REFUND"):
                return _error(400, "ORDERPAID", "该订单已支付")
            if existing.trade_state == "CLOSED":
                return _error(400, "ORDER_CLOSED", "订单已关闭")
            same = (
                existing.description,
                existing.amount_total,
                existing.payer_openid,
                existing.attach,
                existing.time_expire,
            )
            if same != fields:
                return _error(400, "INVALID_REQUEST", "201 商户订单号重复")
            return _json(200, {"prepay_id": existing.prepay_id})
        order = FakeOrder(
            self.sp_appid,
            self.sp_mchid,
            sub,
            no,
            desc,
            amount["total"],
            payer["sp_openid"],
            fields[3],
            fields[4],
            notify_url,
            "wx" + secrets.token_hex(17),
        )
        self.orders[(sub, no)] = order
        self._order_created(order)
        return _json(200, {"prepay_id": order.prepay_id})

    def _query(self, request: Request, no: str) -> tuple[int, bytes]:
        if request.query.get("sp_mchid") != self.sp_mchid:
            return _error(400, "PARAM_ERROR", "sp_mchid不合法")
        order = self.orders.get((request.query.get("sub_mchid", ""), no))
        if order is None:
            return _error(404, "ORDER_NOT_EXIST", "订单不存在")
        return _json(200, self.transaction_json(order))

    def _close(self, p: dict[str, Any], no: str) -> tuple[int, bytes]:
        if p.get("sp_mchid") != self.sp_mchid:
            return _error(400, "PARAM_ERROR", "sp_mchid不合法")
        order = self.orders.get((str(p.get("sub_mchid", "")), no))
        if order is None:
            return _error(404, "ORDER_NOT_EXIST", "订单不存在")
        if order.trade_state in ("SUCCESS", "REFUND"):
            return _error(400, "ORDERPAID", "订单已支付")
        order.trade_state = "CLOSED"
        return 204, b""

    def _refund(self, _: Request, p: dict[str, Any]) -> tuple[int, bytes]:
        sub, no, refund_no, amount = (
            p.get("sub_mchid"),
            p.get("out_trade_no"),
            p.get("out_refund_no"),
            p.get("amount"),
        )
        if not isinstance(refund_no, str) or not isinstance(amount, dict):
            return _error(400, "PARAM_ERROR", "out_refund_no或amount不能为空")
        existing = self.refunds.get((str(sub), refund_no))
        if existing is not None:
            return _json(200, self.refund_json(existing))
        order = self.orders.get((str(sub), str(no)))
        if order is None:
            return _error(404, "RESOURCE_NOT_EXISTS", "订单不存在")
        if order.trade_state not in ("SUCCESS", "REFUND"):
            return _error(400, "INVALID_REQUEST", "订单未支付，不能退款")
        refund, total = amount.get("refund"), amount.get("total")
        if not isinstance(refund, int) or refund < 1 or total != order.amount_total:
            return _error(400, "PARAM_ERROR", "退款金额或订单金额不正确")
        if order.refunded + refund > order.amount_total:
            return _error(400, "INVALID_REQUEST", "申请退款金额超过订单可退金额")
        notify_url = p.get("notify_url") or order.notify_url
        record = FakeRefund(
            str(sub),
            order.out_trade_no,
            refund_no,
            "50300" + str(secrets.randbelow(10**24)).zfill(24),
            refund,
            total,
            str(p.get("reason", "")),
            str(notify_url),
            shanghai_now(),
        )
        order.refunded += refund
        order.trade_state = "REFUND"
        self.refunds[(record.sub_mchid, refund_no)] = record
        return _json(200, self.refund_json(record))

    def _query_refund(self, request: Request, refund_no: str) -> tuple[int, bytes]:
        refund = self.refunds.get((request.query.get("sub_mchid", ""), refund_no))
        if refund is None:
            return _error(404, "RESOURCE_NOT_EXISTS", "退款单不存在")
        return _json(200, self.refund_json(refund))

    def _tradebill(self, request: Request, _: dict[str, Any]) -> tuple[int, bytes]:
        try:
            bill_date = date.fromisoformat(request.query.get("bill_date", ""))
        except ValueError:
            return _error(400, "PARAM_ERROR", "bill_date不合法")
        if bill_date >= shanghai_now().date():
            return _error(400, "STATEMENT_CREATING", "账单生成中")
        if bill_date < shanghai_now().date() - timedelta(days=90):
            return _error(400, "INVALID_REQUEST", "仅支持下载近三个月的账单")
        rows = self.bill_rows(bill_date, request.query.get("sub_mchid") or None)
        if not rows:
            return _error(400, "NO_STATEMENT_EXIST", "账单不存在")
        plain = bill.render(rows).encode()
        token = secrets.token_urlsafe(24)
        self._downloads[token] = gzip.compress(plain) if request.query.get("tar_type") == "GZIP" else plain
        assert self.base_url is not None
        return _json(
            200,
            {
                "hash_type": "SHA1",
                "hash_value": hashlib.sha1(plain).hexdigest(),  # noqa: S324 - WeChat Pay's choice
                "download_url": f"{self.base_url}/v3/billdownload/file?token={token}",
            },
        )

    def _download(self, request: Request, _: dict[str, Any]) -> tuple[int, bytes]:
        content = self._downloads.get(request.query.get("token", ""))
        if content is None:
            return _error(400, "INVALID_REQUEST", "下载链接已失效")
        return 200, content
