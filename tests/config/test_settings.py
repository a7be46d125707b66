from __future__ import annotations

from pathlib import Path

import pytest

from config.settings import DEV_SECRET, SettingsError, from_mapping, load_settings

STRONG = "k" * 40
# checked for presence and shape only (tests/wechat/pay/test_settings.py)
REAL_WECHAT_PAY = {
    "WECHAT_PAY_MODE": "real",
    "WECHAT_PAY_SP_MCHID": "1900000100",
    "WECHAT_PAY_PRIVATE_KEY": "-----BEGIN PRIVATE KEY-----\\nMII\\n-----END PRIVATE KEY-----",
    "WECHAT_PAY_CERT_SERIAL": "5157F09EFDC096DE15EBE81A47057A7232F1B8E1",
    "WECHAT_PAY_APIV3_KEY": "a" * 32,
    "WECHAT_PAY_PUBLIC_KEY": "-----BEGIN PUBLIC KEY-----\\nMII\\n-----END PUBLIC KEY-----",
    "WECHAT_PAY_PUBLIC_KEY_ID": "PUB_KEY_ID_0119000001002024000000000000",
    "WECHAT_PAY_NOTIFY_URL": "https://wuye.example.cn/api/payments/wechat/notify",
}


def test_defaults_need_no_service() -> None:
    settings = from_mapping({})
    assert settings.database_url.startswith("sqlite://")
    assert settings.redis_url is None
    assert settings.wechat_mode == "fake"
    assert (settings.host, settings.port, settings.workers) == ("127.0.0.1", 8000, 1)
    settings.check()  # development accepts the defaults


def test_settings_are_frozen() -> None:
    settings = from_mapping({})
    with pytest.raises(AttributeError):
        settings.port = 1  # type: ignore[misc]


def test_production_refuses_default_secrets_and_names_them() -> None:
    settings = from_mapping({"APP_ENV": "production", "WECHAT_MODE": "real"})
    with pytest.raises(SettingsError) as caught:
        settings.check()
    text = str(caught.value)
    assert "SECRET_KEY" in text and "HMAC_KEY" in text and "WECHAT_APP_SECRET" in text


def test_production_refuses_short_secret_and_fake_wechat() -> None:
    env = {"APP_ENV": "production", "SECRET_KEY": "short", "HMAC_KEY": STRONG, "WECHAT_APP_SECRET": "s"}
    with pytest.raises(SettingsError) as caught:
        from_mapping(env).check()
    assert "SECRET_KEY must be at least 32" in str(caught.value)
    assert "WECHAT_MODE" in str(caught.value)


def test_production_with_real_secrets_starts() -> None:
    env = {
        "APP_ENV": "production",
        "SECRET_KEY": STRONG,
        "HMAC_KEY": STRONG + "h",
        "WECHAT_MODE": "real",
        "WECHAT_APP_SECRET": "real-secret",
        "DATABASE_URL": "postgres://u@127.0.0.1:5432/prod",
        "REDIS_URL": "redis://127.0.0.1:6379/0",
        "PUBLIC_BASE_URL": "https://wuye.example.cn/",
        "WECHAT_PUSH_AES_KEY": "A" * 43,
        **REAL_WECHAT_PAY,
    }
    settings = from_mapping(env)
    settings.check()
    assert settings.secret_key != DEV_SECRET
    assert settings.public_base_url == "https://wuye.example.cn"


def test_production_needs_the_public_https_address_and_names_it() -> None:
    env = {"APP_ENV": "production", "SECRET_KEY": STRONG, "HMAC_KEY": STRONG, "WECHAT_MODE": "real",
           "WECHAT_APP_SECRET": "real-secret"}  # fmt: skip
    for missing in ({}, {"PUBLIC_BASE_URL": "http://wuye.example.cn"}):
        with pytest.raises(SettingsError) as caught:
            from_mapping(env | missing).check()
        assert "PUBLIC_BASE_URL" in str(caught.value)
    for wrong in ({"PUBLIC_BASE_URL": "wuye.example.cn"}, {"TRUSTED_PROXIES": "10.0.0.1,proxy"},
                  {"WECHAT_PUSH_AES_KEY": "short"}):  # fmt: skip
        with pytest.raises(SettingsError) as caught:
            from_mapping(wrong)
        assert next(iter(wrong)) in str(caught.value)
    assert from_mapping({"TRUSTED_PROXIES": "10.0.0.1, 192.168.0.0/16"}).trusted_proxies == (
        "10.0.0.1/32",
        "192.168.0.0/16",
    )


@pytest.mark.parametrize(
    ("env", "names"),
    [
        ({"PORT": "eighty"}, "PORT"),
        ({"WORKERS": "0"}, "WORKERS"),
        ({"APP_ENV": "staging"}, "APP_ENV"),
        ({"WECHAT_MODE": "mock"}, "WECHAT_MODE"),
        ({"DATABASE_URL": "mysql://x"}, "DATABASE_URL"),
        ({"REDIS_URL": "http://x"}, "REDIS_URL"),
        ({"WECHAT_PUSH_TOKEN": "has spaces"}, "WECHAT_PUSH_TOKEN"),
        ({"WECHAT_PUSH_TOKEN": "x" * 33}, "WECHAT_PUSH_TOKEN"),
    ],
)
def test_bad_values_are_named(env: dict[str, str], names: str) -> None:
    with pytest.raises(SettingsError, match=names):
        from_mapping(env)


def test_env_file_fills_only_what_the_environment_lacks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("PORT=9001\nWORKERS=3\n", encoding="utf-8")
    monkeypatch.setenv("WORKERS", "2")
    settings = load_settings(env_file)
    assert (settings.port, settings.workers) == (9001, 2)


def test_push_token_is_the_configured_one_or_derived_from_the_secret_key() -> None:
    from miniprogram_api.notices import push_token

    configured = from_mapping({"WECHAT_PUSH_TOKEN": "Wuye2026Push"})
    assert push_token(configured) == "Wuye2026Push"
    derived = from_mapping({"SECRET_KEY": "k" * 40})
    other = from_mapping({"SECRET_KEY": "q" * 40})
    assert len(push_token(derived)) == 32 and push_token(derived).isalnum()
    assert push_token(derived) != push_token(other)


def test_production_needs_the_safe_mode_push_key_and_names_it() -> None:
    env = {"APP_ENV": "production", "SECRET_KEY": STRONG, "HMAC_KEY": STRONG + "h", "WECHAT_MODE": "real",
           "WECHAT_APP_SECRET": "real-secret", "PUBLIC_BASE_URL": "https://wuye.example.cn"}  # fmt: skip
    with pytest.raises(SettingsError) as caught:
        from_mapping(env).check()
    assert "WECHAT_PUSH_AES_KEY" in str(caught.value)
