"""The container files hold together without Docker (the daemon is not available where the suite runs;
deploy/smoke.sh runs `docker compose up` and waits for /ready where it is): compose.yaml's services,
volumes and environment, each variable a setting config/settings.py reads, the production checks
passing for a filled-in production file and refusing the bare example, the image non-root."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml

from config.settings import SettingsError, from_mapping

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))
DOCKERFILE = (ROOT / "Dockerfile").read_text(encoding="utf-8")
APP_SERVICES = ("migrate", "web", "worker")
# Read by the migrate service's shell, not by the server
COMPOSE_ONLY = {"SEED_DEMO"}
_VARIABLE = re.compile(r"\$\{(\w+)(?::([-?])([^}]*))?\}")


def _env_file(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            key, _, value = line.partition("=")
            values[key] = value
    return values


def _interpolate(value: str, env: dict[str, str]) -> str:
    """Compose's ${VAR}, ${VAR:-default} and ${VAR:?error} (what compose.yaml uses)."""

    def one(match: re.Match[str]) -> str:
        name, kind, arg = match.groups()
        given = env.get(name, "")
        if kind == "?" and not given:
            raise LookupError(f"{name}: {arg}")
        return given or (arg if kind == "-" else "")

    return _VARIABLE.sub(one, value.replace("$$", "\0")).replace("\0", "$")


def _app_env(service: str, env: dict[str, str]) -> dict[str, str]:
    return {k: _interpolate(str(v), env) for k, v in COMPOSE["services"][service]["environment"].items()}


def _settings_read() -> set[str]:
    source = (ROOT / "config" / "settings.py").read_text(encoding="utf-8")
    return set(re.findall(r'env(?:\.get\(|, )"([A-Z][A-Z0-9_]+)"', source))


def _image_env() -> set[str]:
    block = DOCKERFILE[DOCKERFILE.rindex("ENV ") :].split("\nWORKDIR")[0]
    return set(re.findall(r"([A-Z][A-Z0-9_]+)=", block))


def test_compose_runs_the_whole_system_with_volumes_for_database_and_media() -> None:
    services = COMPOSE["services"]
    assert set(services) == {"postgres", "redis", "migrate", "web", "worker", "proxy"}
    assert set(COMPOSE["volumes"]) == {"pgdata", "media", "caddy_data"}
    assert "pgdata:/var/lib/postgresql/data" in services["postgres"]["volumes"]
    image_media = re.search(r"MEDIA_DIR=(\S+)", DOCKERFILE)
    assert image_media is not None
    for name in APP_SERVICES:
        service = services[name]
        assert service["image"] == "wuye:latest"
        assert f"media:{image_media.group(1)}" in service["volumes"]
        assert service["environment"]["MEDIA_DIR"] == image_media.group(1)
    assert services["web"]["command"] == ["python", "-m", "server", "serve"]
    assert services["worker"]["command"] == ["python", "-m", "server", "worker"]
    assert "python -m server migrate" in services["migrate"]["command"][-1]
    for name in ("web", "worker"):
        assert services[name]["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}
    assert services["proxy"]["depends_on"]["web"] == {"condition": "service_healthy"}


def test_every_app_variable_is_a_setting() -> None:
    read = _settings_read()
    assert {"DATABASE_URL", "SECRET_KEY", "METRICS_TOKEN", "LOG_FORMAT"} <= read
    for name in APP_SERVICES:
        unknown = set(COMPOSE["services"][name]["environment"]) - read - COMPOSE_ONLY
        assert unknown == set(), name


def test_every_setting_can_be_given_to_the_containers() -> None:
    """A setting added to config/settings.py but not passed through compose.yaml could not be set."""
    passed = set(COMPOSE["services"]["web"]["environment"]) | _image_env()
    assert _settings_read() - passed == set()


def test_several_web_workers_and_the_proxy_is_the_only_trusted_one() -> None:
    env = _app_env("web", _env_file(ROOT / "deploy" / "demo.env"))
    assert int(env["WORKERS"]) >= 2
    proxy_address = COMPOSE["services"]["proxy"]["networks"]["backend"]["ipv4_address"]
    assert env["TRUSTED_PROXIES"] == proxy_address


def test_a_filled_in_production_file_passes_the_production_checks() -> None:
    env = _env_file(ROOT / "deploy" / "production.env.example")
    env.update(
        POSTGRES_PASSWORD="pw",
        SECRET_KEY="s" * 40,
        HMAC_KEY="h" * 40,
        WECHAT_APP_ID="wx1234567890abcdef",
        WECHAT_APP_SECRET="real-secret-from-the-console",
        WECHAT_PUSH_AES_KEY="A" * 43,
        WECHAT_PAY_SP_MCHID="1900000109",
        WECHAT_PAY_PRIVATE_KEY="-----BEGIN PRIVATE KEY-----\\nx\\n-----END PRIVATE KEY-----",
        WECHAT_PAY_CERT_SERIAL="5157F09EFDC096DE15EBE81A47057A7232F1B8E1",
        WECHAT_PAY_APIV3_KEY="k" * 32,
        WECHAT_PAY_PUBLIC_KEY="-----BEGIN PUBLIC KEY-----\\nx\\n-----END PUBLIC KEY-----",
        WECHAT_PAY_PUBLIC_KEY_ID="PUB_KEY_ID_0114232134912410000000000000",
        WECHAT_PAY_NOTIFY_URL="https://wuye.example.cn/api/v1/payments/notify",
        WECHAT_PAY_API_BASE="https://api.mch.weixin.qq.com",
    )
    settings = from_mapping(_app_env("web", env))
    settings.check()
    assert settings.is_production
    assert settings.log_format == "json"
    assert settings.redis_url == "redis://redis:6379/0"
    assert settings.database_url == "postgres://wuye:pw@postgres:5432/wuye"


def test_the_bare_production_example_is_refused_naming_what_is_missing() -> None:
    env = _env_file(ROOT / "deploy" / "production.env.example")
    with pytest.raises(LookupError, match="POSTGRES_PASSWORD"):
        _app_env("web", env)
    env.update(POSTGRES_PASSWORD="pw", SECRET_KEY="short", HMAC_KEY="h" * 40)
    with pytest.raises(SettingsError) as refused:
        from_mapping(_app_env("web", env)).check()
    assert "SECRET_KEY must be at least 32 characters" in str(refused.value)
    assert "WECHAT_APP_SECRET is missing" in str(refused.value)


def test_the_demo_file_serves_the_demo_county() -> None:
    env = _env_file(ROOT / "deploy" / "demo.env")
    migrate = _app_env("migrate", env)
    assert migrate["SEED_DEMO"] == "1"
    script = COMPOSE["services"]["migrate"]["command"][-1]
    assert 'if [ "$$SEED_DEMO" = 1 ]; then python -m server seed-demo --if-empty; fi' in script
    settings = from_mapping(migrate)
    settings.check()
    assert (settings.environment, settings.wechat_mode) == ("development", "fake")


def test_the_image_is_slim_non_root_and_installs_no_dev_extras() -> None:
    stages = re.findall(r"^FROM (\S+)", DOCKERFILE, re.M)
    assert stages == ["python:3.11-slim", "python:3.11-slim"]
    users = re.findall(r"^USER (\S+)", DOCKERFILE, re.M)
    assert users and users[-1].split(":")[0] not in ("root", "0")
    assert "[test]" not in DOCKERFILE
    assert re.search(r'^CMD \["python", "-m", "server", "serve"\]', DOCKERFILE, re.M)
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    assert {".env", ".venv", "tests", "var", ".git"} <= set(ignored)


def test_the_proxy_terminates_tls_with_the_operator_certificate_and_hides_metrics() -> None:
    caddyfile = (ROOT / "deploy" / "Caddyfile").read_text(encoding="utf-8")
    assert "tls {$CADDY_TLS}" in caddyfile
    assert re.search(r"@metrics path /metrics /metrics/\*\s+respond @metrics 404", caddyfile)
    proxy: dict[str, Any] = COMPOSE["services"]["proxy"]
    assert proxy["environment"]["CADDY_TLS"] == "${CADDY_TLS:-/certs/fullchain.pem /certs/privkey.pem}"
    assert "${TLS_CERT_DIR:-./deploy/certs}:/certs:ro" in proxy["volumes"]
    assert shlex.split(_interpolate("${CADDY_TLS:-/certs/fullchain.pem /certs/privkey.pem}", {})) == [
        "/certs/fullchain.pem",
        "/certs/privkey.pem",
    ]


def test_every_command_compose_runs_is_one_the_cli_knows() -> None:
    import server.__main__ as cli

    source = Path(cli.__file__).read_text(encoding="utf-8")
    known = set(re.findall(r'sub\.add_parser\(\s*"([a-z-]+)"', source))
    wanted = {"serve", "worker", "migrate", "seed-demo", "backup", "restore", "check"}
    assert wanted - known == set()
