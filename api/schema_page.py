"""``/schema``: the OpenAPI document as a plain page, with no script and nothing from another site.

Litestar's default schema pages (Scalar, Swagger, Redoc...) load their scripts,
styles and favicon from CDNs: a page of this server would run code this
server does not serve. Here ``/schema`` lists the operations as HTML and links
to the machine-readable ``/schema/openapi.json`` (served by ``JsonRenderPlugin``),
which is what clients and code generators read.
"""

from __future__ import annotations

import html
from typing import Any

from litestar import Request
from litestar.openapi.plugins import JsonRenderPlugin, OpenAPIRenderPlugin

_METHODS = ("get", "post", "put", "patch", "delete")
_STYLE = ("<style>body{font:15px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:60rem;padding:0 1rem}"
          "code{font-size:14px}td{padding:.15rem .6rem;vertical-align:top}</style>")  # fmt: skip


class PlainSchemaPage(OpenAPIRenderPlugin):
    """The operations of the schema as an HTML table: no JavaScript, no external resource."""

    def __init__(self) -> None:
        super().__init__(path="/", favicon="", style=_STYLE)

    def render(self, request: Request, openapi_schema: dict[str, Any]) -> bytes:
        info = openapi_schema.get("info", {})
        rows = []
        for path, item in sorted(openapi_schema.get("paths", {}).items()):
            for method in _METHODS:
                op = item.get(method)
                if op is not None:
                    rows.append(
                        f"<tr><td><code>{method.upper()}</code></td><td><code>{html.escape(path)}</code></td>"
                        f"<td>{html.escape(op.get('summary') or op.get('operationId') or '')}</td></tr>"
                    )
        json_url = html.escape(self.get_openapi_json_route(request))
        page = (
            f"<!doctype html><html lang='en'><head><meta charset='utf-8'>"
            f"<title>{html.escape(str(info.get('title', 'API')))}</title>{self.style}</head><body>"
            f"<h1>{html.escape(str(info.get('title', 'API')))} {html.escape(str(info.get('version', '')))}</h1>"
            f"<p>The OpenAPI document: <a href='{json_url}'>{json_url}</a>. Every call needs "
            f"<code>Authorization: Bearer ck_…</code> (<code>cronkeeper token create</code>).</p>"
            f"<table>{''.join(rows)}</table></body></html>"
        )
        return page.encode()


RENDER_PLUGINS = (PlainSchemaPage(), JsonRenderPlugin())
