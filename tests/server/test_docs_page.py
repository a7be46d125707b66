"""/docs is served with local assets only: the page names no external host, every asset it names
loads from this server, and Swagger UI's online validator is off."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import httpx


async def test_docs_page_references_no_external_host_and_its_assets_load(client: httpx.AsyncClient) -> None:
    response = await client.get("/docs")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    assert "http://" not in page and "https://" not in page and "//cdn" not in page
    assert "validatorUrl: null" in page
    refs = re.findall(r'(?:src|href)="([^"]+)"', page) + re.findall(r'url: "([^"]+)"', page)
    assert len(refs) == 5
    for ref in refs:
        parts = urlsplit(ref)
        assert parts.scheme == "" and parts.netloc == "" and ref.startswith("/docs/"), ref
        asset = await client.get(ref)
        assert asset.status_code == 200, ref
        assert len(asset.content) > 100, ref
    kinds = {ref.rsplit(".", 1)[-1]: (await client.get(ref)).headers["content-type"] for ref in refs}
    assert kinds["js"].startswith(("application/javascript", "text/javascript"))
    assert kinds["css"].startswith("text/css")
    assert kinds["json"].startswith("application/json")


async def test_sanic_ext_cdn_pages_are_off(client: httpx.AsyncClient) -> None:
    for path in ("/docs/swagger", "/docs/redoc", "/docs/swagger/oauth2-redirect.html"):
        response = await client.get(path)
        assert response.status_code == 404, path


async def test_docs_routes_are_not_in_the_api_document(client: httpx.AsyncClient) -> None:
    document = (await client.get("/docs/openapi.json")).json()
    assert [path for path in document["paths"] if path.startswith("/docs")] == []
    assert "约定" in document["info"]["description"]
