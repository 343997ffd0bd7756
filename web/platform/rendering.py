"""One template serves the full page and its htmx fragment.

A handler names the block that htmx swaps; a plain request (JavaScript off, reload,
history restore) gets the whole page from the same template, so the two cannot drift.
A fragment also carries the page's `<title>` (`fragment.html.j2`: the page's `title` block,
then the named block, with the same context): htmx takes a top-level `<title>` out of the
response and sets `document.title`, so the title after a swap is the full page's.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from litestar import Request
from litestar.enums import MediaType
from litestar.plugins.htmx import HTMXTemplate
from litestar.response import Redirect, Response, Template

FRAGMENT_TEMPLATE = "fragment.html.j2"


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
) -> Template:
    context = context or {}
    # HTML said, not guessed: Litestar guesses it from the template's name on every response.
    if fragment and wants_fragment(request):
        return HTMXTemplate(
            template_name=FRAGMENT_TEMPLATE,
            context={**context, "page_template": template_name, "page_fragment": fragment},
            status_code=status_code,
            push_url=push_url,
            media_type=MediaType.HTML,
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
