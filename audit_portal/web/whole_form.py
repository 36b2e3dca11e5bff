"""Read a form, refusing a multipart body that was cut off before its closing boundary.

python-multipart accepts a truncated body without complaint, and Starlette then keeps the
fields that arrived and loses track of the temporary file of the part that was cut off (it is
in no field, so closing the form does not close it). A cut-off body is not what the person
sent, so it is refused with a 400, and every temporary file it opened is closed.
"""

from __future__ import annotations

from contextlib import aclosing

from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.requests import Request

CUT_OFF = "The form was cut off before it arrived in full. Send it again."


class _WholeMultiPartParser(MultiPartParser):
    complete = False

    def on_end(self) -> None:
        super().on_end()
        self.complete = True

    async def parse(self) -> FormData:
        form = await super().parse()
        if not self.complete:
            for spooled in self._files_to_close_on_error:
                spooled.close()
            raise HTTPException(400, CUT_OFF)
        return form


async def read_form(request: Request, *, max_files: int, max_fields: int) -> FormData:
    """The request's form, as ``request.form()`` returns it, but whole or refused."""
    if not request.headers.get("content-type", "").lower().startswith("multipart/form-data"):
        return await request.form(max_files=max_files, max_fields=max_fields)
    try:
        async with aclosing(request.stream()) as stream:
            parser = _WholeMultiPartParser(
                request.headers, stream, max_files=max_files, max_fields=max_fields
            )
            form = await parser.parse()
    except MultiPartException as exc:
        raise HTTPException(400, exc.message) from None
    request._form = form  # what the endpoint's own ``request.form()`` returns from now on
    return form
