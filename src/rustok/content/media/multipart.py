"""Reading an upload: a ``multipart/form-data`` body parsed as it arrives, with python-multipart's push
parser, so the file goes to storage chunk by chunk and nothing is spooled to memory or a temporary file."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import ClientDisconnect

from rustok.core.errors import BadRequest, PayloadTooLarge, Unprocessable

FILE_FIELD = "file"
TEXT_FIELDS = frozenset({"alt", "title", "locale"})
MAX_FIELD_BYTES = 4 * 1024


def _invalid_field(name: str, msg: str, type_: str) -> Unprocessable:
    return Unprocessable(
        "The upload did not pass validation; see `errors`.",
        code="validation_error",
        errors=[{"loc": ["body", name], "msg": msg, "type": type_}],
    )


def malformed(detail: str) -> BadRequest:
    return BadRequest(detail, code="invalid_multipart")


class MultipartUpload:
    """A ``multipart/form-data`` body read as it arrives (`service.UploadSource`). `start` reads up to the
    ``file`` part's data; `chunks` then yields that data as the client sends it and reads the rest of the body
    (fields may follow the file), after which `fields` holds the text fields. Unknown or repeated parts are a
    422 at once; a body that is not well-formed multipart is a 400 ``invalid_multipart``; a body longer than
    ``max_body`` (all parts and their envelope) is a 413."""

    def __init__(self, body: AsyncIterator[bytes], boundary: bytes, *, max_body: int) -> None:
        self._body = body
        self._max_body = max_body
        self._received = 0
        try:
            self._parser = MultipartParser(
                boundary,
                callbacks={
                    "on_part_begin": self._on_part_begin,
                    "on_header_field": self._on_header_field,
                    "on_header_value": self._on_header_value,
                    "on_header_end": self._on_header_end,
                    "on_headers_finished": self._on_headers_finished,
                    "on_part_data": self._on_part_data,
                    "on_part_end": self._on_part_end,
                    "on_end": self._on_end,
                },
            )
        except FormParserError as exc:
            raise malformed(f"The multipart boundary is not valid: {exc}") from exc
        self._header_name = bytearray()
        self._header_value = bytearray()
        self._headers: dict[bytes, bytes] = {}
        self._part: str | None = None  # the current part's field name
        self._text = bytearray()
        self._pending: list[bytes] = []  # file data parsed and not yet handed on
        self._seen: set[str] = set()
        self._fields: dict[str, str] = {}
        self._file_started = False
        self._file_done = False
        self._ended = False
        self.filename: str | None = None

    @property
    def fields(self) -> Mapping[str, str]:
        return self._fields

    # -- the parser's callbacks (synchronous; they raise to stop the request)

    def _on_part_begin(self) -> None:
        self._headers = {}
        self._part = None
        self._text.clear()

    def _on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def _on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def _on_header_end(self) -> None:
        self._headers[bytes(self._header_name).strip().lower()] = bytes(self._header_value).strip()
        self._header_name.clear()
        self._header_value.clear()

    def _on_headers_finished(self) -> None:
        disposition, options = parse_options_header(self._headers.get(b"content-disposition"))
        name = options.get(b"name")
        if disposition != b"form-data" or name is None:
            raise malformed("Every part needs a `Content-Disposition: form-data; name=...` header.")
        field = name.decode("utf-8", "replace")
        if field in self._seen:
            raise _invalid_field(field, "this field may be sent once", "duplicate_field")
        if field != FILE_FIELD and field not in TEXT_FIELDS:
            raise _invalid_field(field, "Extra inputs are not permitted", "extra_forbidden")
        self._seen.add(field)
        self._part = field
        if field == FILE_FIELD:
            filename = options.get(b"filename")
            self.filename = filename.decode("utf-8", "replace") if filename is not None else None
            self._file_started = True

    def _on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self._part == FILE_FIELD:
            self._pending.append(data[start:end])
        elif self._part is not None:
            self._text += data[start:end]
            if len(self._text) > MAX_FIELD_BYTES:
                raise _invalid_field(self._part, f"at most {MAX_FIELD_BYTES} bytes", "string_too_long")

    def _on_part_end(self) -> None:
        if self._part == FILE_FIELD:
            self._file_done = True
        elif self._part is not None:
            try:
                self._fields[self._part] = bytes(self._text).decode("utf-8")
            except UnicodeDecodeError:
                raise _invalid_field(self._part, "not UTF-8 text", "string_unicode") from None
        self._part = None

    def _on_end(self) -> None:
        self._ended = True

    # -- reading

    async def _pump(self) -> bool:
        """Feed the next piece of the body to the parser; False when the body has ended."""
        try:
            chunk = await anext(self._body)
        except StopAsyncIteration:
            return False
        except ClientDisconnect as exc:
            raise BadRequest("The client went away before the body ended.", code="incomplete_body") from exc
        self._received += len(chunk)
        if self._received > self._max_body:
            raise PayloadTooLarge(f"The request body is larger than the {self._max_body} bytes accepted.")
        try:
            self._parser.write(chunk)
        except FormParserError as exc:
            raise malformed(f"The body is not valid multipart/form-data: {exc}") from exc
        return True

    async def start(self) -> None:
        """Read up to the file's data; a 422 when the body has no ``file`` part."""
        while not self._file_started:
            if not await self._pump():
                if not self._ended:
                    raise malformed("The body ended before its closing boundary.")
                raise _invalid_field(FILE_FIELD, "Field required", "missing")

    async def chunks(self) -> AsyncIterator[bytes]:
        while True:
            if self._pending:
                data = b"".join(self._pending)
                self._pending.clear()
                yield data
            if self._file_done:
                break
            if not await self._pump():
                raise malformed("The body ended inside the file.")
        while await self._pump():
            pass
        if not self._ended:
            raise malformed("The body ended before its closing boundary.")
