"""A signature, a link's signature or a CSRF token that is not ASCII is refused like any wrong one, never
a 500 (hmac.compare_digest raises TypeError on non-ASCII str; the fuzz found it on the push URL)."""

from __future__ import annotations

import time

import httpx

from photos.access import signature_valid
from wechat.push import PushConfig, PushSignatureInvalid, check_url_signature

ODD = "\u009f;\u00f2\u91d1"


async def test_the_push_url_refuses_a_non_ascii_signature(client: httpx.AsyncClient) -> None:
    query = {"signature": ODD, "timestamp": str(int(time.time())), "nonce": "n", "echostr": "e"}
    checked = await client.get("/api/v1/wechat/push", params=query)
    assert (checked.status_code, checked.json()["code"]) == (403, "push_signature_invalid")
    pushed = await client.post("/api/v1/wechat/push", params={**query, "msg_signature": ODD}, json={"a": 1})
    assert pushed.status_code == 403, pushed.text


def test_the_checks_themselves_answer_false_or_refuse() -> None:
    config = PushConfig(token="token123", aes_key="", app_id="wx0000000000000000")
    try:
        check_url_signature(config, {"signature": ODD, "timestamp": "1", "nonce": "n"}, time.time())
    except PushSignatureInvalid:
        pass
    else:
        raise AssertionError("a non-ASCII signature passed")
    assert signature_valid(b"k" * 32, 1, "display", 2, 2**40, ODD, 0) is False
    assert signature_valid(b"k" * 32, 1, "display", 2, 2**40, "\ud800", 0) is False
