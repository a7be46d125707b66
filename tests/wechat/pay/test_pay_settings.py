"""WECHAT_PAY_* settings: fake by default, keys as PEM text (escaped newlines too) or a file, and
production refusing anything missing."""

from __future__ import annotations

from pathlib import Path

import pytest

from config.settings import SettingsError, from_mapping
from wechat.pay.keys import KeyPair

from .conftest import SUB_MCHID

STRONG = "k" * 40
PRODUCTION = {
    "APP_ENV": "production",
    "SECRET_KEY": STRONG,
    "HMAC_KEY": STRONG + "h",
    "WECHAT_MODE": "real",
    "WECHAT_APP_ID": "wx1234567890abcdef",
    "WECHAT_APP_SECRET": "real-secret",
    "PUBLIC_BASE_URL": "https://wuye.example.cn",
    "WECHAT_PUSH_AES_KEY": "A" * 43,
}


def test_fake_by_default_and_the_appid_of_the_mini_program() -> None:
    settings = from_mapping({"WECHAT_APP_ID": "wx1234567890abcdef"})
    assert settings.wechat_pay_mode == "fake"
    assert settings.wechat_pay_api_base == "https://api.mch.weixin.qq.com"
    assert settings.wechat_pay_sp_appid == "wx1234567890abcdef"
    assert (
        from_mapping({"WECHAT_PAY_SP_APPID": "wxpay000000000000"}).wechat_pay_sp_appid == "wxpay000000000000"
    )
    settings.check()


def test_keys_inline_escaped_or_in_a_file(
    tmp_path: Path, key_pairs: tuple[KeyPair, KeyPair, KeyPair]
) -> None:
    merchant, platform, _ = key_pairs
    path = tmp_path / "apiclient_key.pem"
    path.write_text(merchant.private_pem)
    one_line = platform.public_pem.replace("\n", "\\n")
    settings = from_mapping({"WECHAT_PAY_PRIVATE_KEY": str(path), "WECHAT_PAY_PUBLIC_KEY": one_line})
    assert settings.wechat_pay_private_key == merchant.private_pem
    assert settings.wechat_pay_public_key == platform.public_pem
    assert merchant.private_pem not in repr(settings)
    with pytest.raises(SettingsError, match="WECHAT_PAY_PRIVATE_KEY is neither PEM text nor a readable file"):
        from_mapping({"WECHAT_PAY_PRIVATE_KEY": str(tmp_path / "missing.pem")})
    (tmp_path / "not.pem").write_text("hello")
    with pytest.raises(SettingsError, match="WECHAT_PAY_PUBLIC_KEY points to a file that is not PEM"):
        from_mapping({"WECHAT_PAY_PUBLIC_KEY": str(tmp_path / "not.pem")})
    with pytest.raises(SettingsError, match="WECHAT_PAY_NOTIFY_URL must be an absolute"):
        from_mapping({"WECHAT_PAY_NOTIFY_URL": "/api/notify"})


def test_production_names_every_missing_wechat_pay_setting() -> None:
    with pytest.raises(SettingsError) as caught:
        from_mapping(PRODUCTION).check()
    assert "WECHAT_PAY_MODE must be 'real'" in str(caught.value)
    with pytest.raises(SettingsError) as caught:
        from_mapping({**PRODUCTION, "WECHAT_PAY_MODE": "real"}).check()
    text = str(caught.value)
    for name in (
        "WECHAT_PAY_SP_MCHID",
        "WECHAT_PAY_PRIVATE_KEY",
        "WECHAT_PAY_CERT_SERIAL",
        "WECHAT_PAY_APIV3_KEY",
        "WECHAT_PAY_PUBLIC_KEY is",
        "WECHAT_PAY_PUBLIC_KEY_ID",
        "WECHAT_PAY_NOTIFY_URL",
    ):
        assert name in text, name


def test_production_with_wechat_pay_configured_starts(key_pairs: tuple[KeyPair, KeyPair, KeyPair]) -> None:
    merchant, platform, _ = key_pairs
    env = {
        **PRODUCTION,
        "WECHAT_PAY_MODE": "real",
        "WECHAT_PAY_SP_MCHID": "1900000100",
        "WECHAT_PAY_PRIVATE_KEY": merchant.private_pem,
        "WECHAT_PAY_CERT_SERIAL": merchant.serial,
        "WECHAT_PAY_APIV3_KEY": "a" * 32,
        "WECHAT_PAY_PUBLIC_KEY": platform.public_pem,
        "WECHAT_PAY_PUBLIC_KEY_ID": platform.serial,
        "WECHAT_PAY_NOTIFY_URL": "https://wuye.example.cn/api/payments/wechat/notify",
    }
    from_mapping(env).check()
    for name, bad in (
        ("WECHAT_PAY_APIV3_KEY", "short"),
        ("WECHAT_PAY_NOTIFY_URL", "http://wuye.example.cn/notify"),
        ("WECHAT_PAY_SP_MCHID", SUB_MCHID + "x"),
        ("WECHAT_PAY_API_BASE", "http://127.0.0.1:8001"),
        ("WECHAT_PAY_PUBLIC_KEY_ID", "5157F09EFDC096DE"),
    ):
        with pytest.raises(SettingsError, match=name):
            from_mapping({**env, name: bad}).check()
