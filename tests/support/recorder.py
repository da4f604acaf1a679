"""A WSGI middleware that records every request it passes on: to compare what two clients send."""

from __future__ import annotations

import io
from dataclasses import dataclass
from urllib.parse import parse_qsl, unquote


@dataclass(frozen=True)
class Sent:
    """One request as it arrived: method, raw path, query, content type and body."""

    method: str
    raw_path: str
    query: tuple[tuple[str, str], ...]
    content_type: str
    body: bytes

    @property
    def segments(self) -> list[str]:
        """The path's segments, each percent-decoded on its own (as Auth0 reads them)."""
        return [unquote(s) for s in self.raw_path.split("/")]


class Recorder:
    """Wraps a WSGI app; `sent` lists what reached it, in order."""

    def __init__(self, app) -> None:
        self.app = app
        self.sent: list[Sent] = []

    def __call__(self, environ, start_response):
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        raw = environ.get("RAW_URI") or environ.get("REQUEST_URI") or environ["PATH_INFO"]
        path, _, query = raw.partition("?")
        self.sent.append(
            Sent(
                environ["REQUEST_METHOD"],
                path,
                tuple(parse_qsl(query, keep_blank_values=True)),
                environ.get("CONTENT_TYPE", ""),
                body,
            )
        )
        return self.app(environ, start_response)
