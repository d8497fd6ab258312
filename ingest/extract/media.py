"""Audio and video: metadata only (duration, codec, stream properties, tags) through mutagen."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import mutagen

from ingest.extract.model import Extraction
from ingest.filetypes import FileKind

_INFO_FIELDS = ("length", "bitrate", "sample_rate", "channels", "bits_per_sample")
_TAGS = {"title": "title", "artist": "author", "album": "album", "date": "date"}


def extract_media(path: Path, kind: FileKind) -> Extraction:
    # mutagen knows neither Matroska/WebM nor AVI: those keep only the kind and size.
    parsed = mutagen.File(path, easy=True)
    metadata: dict[str, Any] = {}
    if parsed is not None:
        info = parsed.info
        metadata["codec"] = _codec(info)
        for name in _INFO_FIELDS:
            value = getattr(info, name, None)
            if isinstance(value, int | float) and value:
                metadata["duration_s" if name == "length" else name] = round(value, 3)
        for tag, key in _TAGS.items():
            try:
                values = parsed.get(tag) if parsed.tags is not None else None
            except (KeyError, ValueError):
                values = None
            if values:
                metadata[key] = str(values[0])
    return Extraction(kind, kind.mime, "ok", None, [], {k: v for k, v in metadata.items() if v})


# mutagen's stream-info classes name the codec where the container holds only one.
_CODEC_OF_INFO = {"MPEGInfo": "MP3", "StreamInfo": "FLAC", "OggVorbisInfo": "Vorbis", "OggOpusInfo": "Opus",
                  "OggFLACStreamInfo": "FLAC", "OggSpeexInfo": "Speex", "OggTheoraInfo": "Theora",
                  "WaveStreamInfo": "PCM"}


def _codec(info: object) -> str | None:
    """The (audio) codec: MP4/M4A say it themselves (e.g. "AAC LC"), the other containers by their kind."""
    described = getattr(info, "codec_description", None) or getattr(info, "codec", None)
    if isinstance(described, str) and described:
        return described
    return _CODEC_OF_INFO.get(type(info).__name__)
