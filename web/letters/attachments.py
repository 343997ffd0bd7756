"""Downloading a letter's attachment: one route, built for the applicant's controller and
for the staff registry's, each finding the letter its user may see."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from litestar import get
from litestar.handlers import HTTPRouteHandler
from litestar.params import FromPath
from litestar.response import Stream

from models.letters import Letter
from web.identity.guards import CurrentUser, SignedInUser
from web.letters import service
from web.platform.dependencies import FileStorage
from web.storage.receiving import file_response


def attachment_route(
    path: str, name: str, letter_for: Callable[[CurrentUser, int], Awaitable[Letter | None]]
) -> HTTPRouteHandler:
    """The attachment as a download; a missing letter or file, or one `letter_for` does not
    give this user, is a 404."""

    @get(path, name=name, opt={"skip_compression": True})  # PDF/JPEG/PNG are compressed
    async def file(
        self,
        user: SignedInUser,
        storage: FileStorage,
        letter_id: FromPath[int],
        file_id: FromPath[int],
    ) -> Stream:
        letter = await letter_for(user, letter_id)
        return await file_response(storage, await service.attachment_of(letter, file_id))

    return file
