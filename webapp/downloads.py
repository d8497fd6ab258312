"""``Content-Disposition`` for every download: RFC 6266 with an RFC 5987 UTF-8 name and an ASCII fallback.

The one helper every download route calls, so a stored name (Chinese, with quotes, or old and dirty) can
neither break the header nor smuggle another one in.
"""

from __future__ import annotations

import re
from urllib.parse import quote

from werkzeug.wrappers import Response

from ingest.filenames import clean_filename

_NOT_PLAIN_ASCII = re.compile(r'[^\x20-\x7e]|["\\%;]')


def content_disposition(filename: str, *, inline: bool = False) -> str:
    name = clean_filename(filename) or "download"
    fallback = _NOT_PLAIN_ASCII.sub("_", name)
    value = f'{"inline" if inline else "attachment"}; filename="{fallback}"'
    if fallback != name:
        value += f"; filename*=UTF-8''{quote(name, safe='')}"
    return value


def as_download(response: Response, filename: str, *, inline: bool = False) -> Response:
    """Set the response's ``Content-Disposition`` for ``filename``; returns the response."""
    response.headers["Content-Disposition"] = content_disposition(filename, inline=inline)
    return response
