"""The API's own pages: Swagger UI at ``/docs`` and ReDoc at ``/redoc``, served from files shipped inside
the package (``static/``, vendored by ``make docs-assets`` at the versions in ``static/VERSIONS``), never
from a CDN, so they work offline. Each page carries a Content-Security-Policy that lets it load nothing
from another origin; Swagger UI is started by a static script (``static/swagger-init.js``), so its page
needs no inline script either.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

from fastapi import Request
from fastapi.openapi.docs import get_redoc_html
from fastapi.staticfiles import StaticFiles
from starlette.responses import HTMLResponse

from rustok.core.routing import make_router
from rustok.core.security import public

STATIC_DIR = Path(__file__).parent / "static"
ASSETS_PATH = "/docs/assets"
OPENAPI_PATH = "/openapi.json"

# Everything from this origin only. Both UIs set inline styles; ReDoc runs its search in a worker it
# makes from a blob and compiles schema validators with `new Function` (its bundled ajv).
_CSP_COMMON = (
    "default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
SWAGGER_CSP = f"{_CSP_COMMON}; script-src 'self'"
REDOC_CSP = f"{_CSP_COMMON}; script-src 'self' 'unsafe-eval'; worker-src blob:"

router = make_router(include_in_schema=False, dependencies=[public(authenticate=False)])


def assets() -> StaticFiles:
    """The app mounts this at `ASSETS_PATH`."""
    return StaticFiles(directory=STATIC_DIR)


def _prefixed(request: Request, path: str) -> str:
    """A path of this app as the browser must ask for it (behind a proxy that mounts it under a prefix)."""
    return f"{request.scope.get('root_path', '').rstrip('/')}{path}"


def _headers(csp: str) -> dict[str, str]:
    return {
        "Content-Security-Policy": csp,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-cache",
    }


@router.get("/docs", response_class=HTMLResponse)
async def swagger_ui(request: Request) -> HTMLResponse:
    title = escape(f"{request.app.title} API")
    asset = escape(_prefixed(request, ASSETS_PATH))
    openapi = escape(_prefixed(request, OPENAPI_PATH))
    html = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="stylesheet" href="{asset}/swagger-ui/swagger-ui.css">
<link rel="icon" type="image/png" href="{asset}/swagger-ui/favicon-32x32.png">
</head>
<body>
<div id="swagger-ui" data-openapi-url="{openapi}"></div>
<script src="{asset}/swagger-ui/swagger-ui-bundle.js"></script>
<script src="{asset}/swagger-init.js"></script>
</body>
</html>
"""
    return HTMLResponse(html, headers=_headers(SWAGGER_CSP))


@router.get("/redoc", response_class=HTMLResponse)
async def redoc(request: Request) -> HTMLResponse:
    asset = _prefixed(request, ASSETS_PATH)
    page = get_redoc_html(
        openapi_url=_prefixed(request, OPENAPI_PATH),
        title=f"{request.app.title} API",
        redoc_js_url=f"{asset}/redoc/redoc.standalone.js",
        redoc_favicon_url=f"{asset}/swagger-ui/favicon-32x32.png",
        with_google_fonts=False,
    )
    return HTMLResponse(bytes(page.body), headers=_headers(REDOC_CSP))
