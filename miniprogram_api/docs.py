"""The API documentation page, /docs, with every asset served by this server.

sanic-ext's own page loads Swagger UI from a CDN, which county intranets and many networks in China
cannot reach (and its OAuth2 redirect page is fetched from the CDN at request time). So its UI is off
(server/app.py) and this page serves Swagger UI's files from the installed ``swagger-ui-py`` package
(its ``static`` folder: the Swagger UI distribution), never copied into this repository. The document
itself stays at /docs/openapi.json (sanic-ext). The online validator badge is off (it would send the
document to validator.swagger.io).
"""

from __future__ import annotations

from html import escape
from importlib.util import find_spec
from pathlib import Path

from sanic import Request, Sanic
from sanic.response import HTTPResponse, html

PREFIX = "/docs"
ASSETS = f"{PREFIX}/assets"


def swagger_ui_dir() -> Path:
    spec = find_spec("swagger_ui")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("swagger-ui-py is not installed (pip install -e .)")
    return Path(next(iter(spec.submodule_search_locations))) / "static"


def page(title: str) -> str:
    return f"""<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="UTF-8">
<title>{escape(title)}</title>
<link rel="stylesheet" type="text/css" href="{ASSETS}/swagger-ui.css">
<link rel="icon" type="image/png" href="{ASSETS}/favicon-32x32.png" sizes="32x32">
</head>
<body>
<div id="swagger-ui"></div>
<script src="{ASSETS}/swagger-ui-bundle.js" charset="UTF-8"></script>
<script src="{ASSETS}/swagger-ui-standalone-preset.js" charset="UTF-8"></script>
<script>
window.onload = function () {{
  window.ui = SwaggerUIBundle({{
    url: "{PREFIX}/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    persistAuthorization: true,
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    layout: "StandaloneLayout"
  }});
}};
</script>
</body>
</html>
"""


def install(app: Sanic, title: str) -> None:
    """Serve the page and its assets under sanic-ext's own blueprint (its start-up line names the
    page by the route ``openapi.index``), whose CDN pages are turned off in server/app.py."""
    bp = app.blueprints["openapi"]
    text = page(title)

    async def index(request: Request) -> HTTPResponse:
        return html(text)

    bp.add_route(index, "", methods=["GET"], name="index")
    bp.static("/assets", swagger_ui_dir(), name="assets")


DESCRIPTION = """业主大会电子表决、公告公示、投诉报事、缴费与服务预约。

约定（对所有接口一致）：
- 错误：统一的 JSON 信封 `{code, message, request_id, details}`；`code` 稳定，供程序判断；`message` 为中文，供展示。
  校验失败（400 `invalid`）时 `details` 逐项给出 `field`（字段路径，如 `items[0].note`）、`type` 与中文 `reason`。
- 请求体只接受接口声明的字段：未定义的字段（例如把 `note` 写成 `comment`）返回 400，而不是被静默忽略。
- 身份：`Authorization: Bearer <token>`（POST /api/v1/auth/login 取得）。
- 时间：响应中的每个时刻都是 RFC 3339，北京时间并标明时区，例如 `2026-12-20T10:00:00+08:00`；
  请求中的时刻必须带时区（`+08:00` 或 `Z`），不带时区的时间不予接受。CSV/XLSX 导出中的时间为北京时间，
  写作 `2026-12-20 10:00:00+08:00`，列名注明"北京时间"。
- 金额为整数，单位为分。
"""
