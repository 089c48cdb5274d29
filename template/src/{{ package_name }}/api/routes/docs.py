"""Interactive documentation: Swagger UI at /docs and ReDoc at /redoc.

Their scripts and styles are the files installed with the `fastapi-offline` package, served
from this service, so the pages work without internet access and under a CSP that allows
only this origin.
"""

from html import escape
from pathlib import Path

import fastapi_offline
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, Response

ASSETS_DIR = Path(fastapi_offline.__file__).parent / "static"
ASSETS_PATH = "/docs/assets"
ASSET_MEDIA_TYPES = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
    "redoc.standalone.js": "text/javascript; charset=utf-8",
    "favicon.png": "image/png",
}
"""The bundles are UTF-8; without the charset a browser may decode them wrongly and fail."""

SWAGGER_UI_INIT = """\
window.addEventListener("load", () => {
  const root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.dataset.openapiUrl,
    domNode: root,
    deepLinking: true,
    displayOperationId: true,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
  });
});
"""

router = APIRouter(include_in_schema=False)


def _page(request: Request, title: str, *, head: str, body: str) -> HTMLResponse:
    root = request.scope.get("root_path", "")
    return HTMLResponse(
        f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(request.app.title)} - {title}</title>
<link rel="icon" type="image/png" href="{root}{ASSETS_PATH}/favicon.png">
{head}</head>
<body>
{body}</body>
</html>
"""
    )


def _urls(request: Request) -> tuple[str, str]:
    """Where the assets and the OpenAPI document are, behind a proxy's path prefix too."""
    root = request.scope.get("root_path", "")
    return f"{root}{ASSETS_PATH}", f"{root}{request.app.openapi_url}"


@router.get("/docs")
async def swagger_ui(request: Request) -> HTMLResponse:
    assets, openapi_url = _urls(request)
    return _page(
        request,
        "Swagger UI",
        head=f'<link rel="stylesheet" href="{assets}/swagger-ui.css">\n',
        body=f'<div id="swagger-ui" data-openapi-url="{openapi_url}"></div>\n'
        f'<script src="{assets}/swagger-ui-bundle.js"></script>\n'
        f'<script src="{assets}/swagger-ui-init.js"></script>\n',
    )


@router.get("/redoc")
async def redoc(request: Request) -> HTMLResponse:
    assets, openapi_url = _urls(request)
    return _page(
        request,
        "ReDoc",
        head="",
        body=f'<redoc spec-url="{openapi_url}"></redoc>\n'
        f'<script src="{assets}/redoc.standalone.js"></script>\n',
    )


@router.get(ASSETS_PATH + "/swagger-ui-init.js")
async def swagger_ui_init() -> Response:
    return Response(SWAGGER_UI_INIT, media_type="text/javascript; charset=utf-8")


@router.get(ASSETS_PATH + "/{name}")
async def docs_asset(name: str) -> FileResponse:
    media_type = ASSET_MEDIA_TYPES.get(name)
    if media_type is None:
        raise HTTPException(404, "No such documentation asset.")
    return FileResponse(ASSETS_DIR / name, media_type=media_type)
