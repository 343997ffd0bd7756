"""One template serves the full page and its htmx fragment.

A handler names the block that htmx swaps; a plain request (JavaScript off, reload,
history restore) gets the whole page from the same template, so the two cannot drift.
A fragment also carries the page's `<title>` (`Fragment`: the page's `title` block, then
the named block, with the same context): htmx takes a top-level `<title>` out of the
response and sets `document.title`, so the title after a swap is the full page's.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from litestar import Request
from litestar.enums import MediaType
from litestar.response import Redirect, Response, Template
from litestar_htmx import HtmxHeaderType
from litestar_htmx._utils import get_headers

SITE_NAME = "e-Gömrük"  # after the page's title, as layout.html.j2 writes it


class Fragment(Response):
    """The htmx answer: `<title>` with the page template's `title` block, a newline, then
    the block the handler named — both rendered straight from the page's template with one
    context, which Litestar builds as for any template (`request`, `csrf_input`). (It was a
    template of its own calling the page's two blocks: a second render and two calls per
    fragment, ~30 µs of a letter lookup.)"""

    def __init__(
        self,
        template_name: str,
        block: str,
        context: dict[str, Any],
        *,
        status_code: int = 200,
        push_url: str | bool | None = None,
    ) -> None:
        super().__init__(
            content=b"",
            status_code=status_code,
            media_type=MediaType.HTML,
            headers=get_headers(HtmxHeaderType(push_url=push_url)),  # as HTMXTemplate's
        )
        self.page = Template(template_name=template_name, context=context)
        self.block = block

    def to_asgi_response(self, app: Any, request: Request, **kwargs: Any) -> Any:
        environment = request.app.template_engine.engine
        template = environment.get_template(self.page.template_name)
        context = template.new_context(self.page.create_template_context(request))
        title = environment.concat(template.blocks["title"](context))
        body = environment.concat(template.blocks[self.block](context))
        self.content = f"<title>{title} – {SITE_NAME}</title>\n{body}".encode()
        return super().to_asgi_response(app, request, **kwargs)


def wants_fragment(request: Request) -> bool:
    headers = request.headers
    return (
        headers.get("hx-request") == "true" and headers.get("hx-history-restore-request") != "true"
    )


def render(
    request: Request,
    template_name: str,
    context: dict[str, Any] | None = None,
    *,
    fragment: str | None = None,
    status_code: int = 200,
    push_url: str | bool | None = None,
) -> Response:
    context = context or {}
    # HTML said, not guessed: Litestar guesses it from the template's name on every response.
    if fragment and wants_fragment(request):
        return Fragment(
            template_name, fragment, context, status_code=status_code, push_url=push_url
        )
    return Template(
        template_name=template_name,
        context=context,
        status_code=status_code,
        media_type=MediaType.HTML,
    )


# Characters a URL may carry as they are; everything else (e.g. "ə" in a `next` path) is
# percent-encoded, since response headers are Latin-1 and a browser decodes it back.
_URL_SAFE = "/?&=#%:;,+@!$'()*[]~-._"


def redirect(request: Request, url: str) -> Response:
    """After a POST (or a finished step): 303 for browsers, HX-Redirect for htmx, so
    htmx never swaps a whole page into a fragment's place."""
    url = quote(url, safe=_URL_SAFE)
    if wants_fragment(request):
        return Response(content=b"", status_code=200, headers={"HX-Redirect": url})
    return Redirect(path=url, status_code=303)
