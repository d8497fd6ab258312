"""Audio and video: metadata only (duration, codec, stream properties, tags) through mutagen, and the video
stream (codec, frame size, frame rate) through MediaInfo (``pymediainfo``: its wheel bundles libmediainfo;
it also reads Matroska/WebM and AVI, which mutagen does not). Both run in the isolated child process."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import mutagen

from ingest.extract.model import Extraction
from ingest.filetypes import Category, FileKind

_NOT_MUTAGEN = frozenset({FileKind.MKV, FileKind.WEBM, FileKind.AVI})
_INFO_FIELDS = ("length", "bitrate", "sample_rate", "channels", "bits_per_sample")
_TAGS = {"title": "title", "artist": "author", "album": "album", "date": "date"}


def extract_media(path: Path, kind: FileKind) -> Extraction:
    # mutagen knows neither Matroska/WebM nor AVI (it takes an AVI's RIFF header for a broken WAVE): those get
    # their metadata from MediaInfo alone.
    try:
        parsed = None if kind in _NOT_MUTAGEN else mutagen.File(path, easy=True)
    except mutagen.MutagenError:
        if kind.category is not Category.VIDEO:
            raise
        parsed = None
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
    if kind.category is Category.VIDEO:
        metadata.update(_video(path, metadata))
    return Extraction(kind, kind.mime, "ok", None, [], {k: v for k, v in metadata.items() if v})


def _video(path: Path, known: dict[str, Any]) -> dict[str, Any]:
    """Codec, frame size and rate of the first video stream, the audio codec and the duration where mutagen
    did not give them."""
    try:
        from pymediainfo import MediaInfo

        tracks = MediaInfo.parse(path).tracks
    except (ImportError, OSError, RuntimeError):  # library missing or file unreadable: keep what mutagen gave
        return {}
    found: dict[str, Any] = {}
    video = next((t for t in tracks if t.track_type == "Video"), None)
    audio = next((t for t in tracks if t.track_type == "Audio"), None)
    general = next((t for t in tracks if t.track_type == "General"), None)
    if video is not None:
        found.update(video_codec=_text(video.format), width=_number(video.width), height=_number(video.height),
                     frame_rate=_number(video.frame_rate))
    if audio is not None and not known.get("codec"):
        found["codec"] = _text(audio.format)
    milliseconds = _number(general.duration) if general is not None else None
    if milliseconds and not known.get("duration_s"):
        found["duration_s"] = round(milliseconds / 1000, 3)
    return found


def _text(value: object) -> str | None:
    return value[:80] if isinstance(value, str) and value.strip() else None


def _number(value: object) -> float | int | None:
    try:
        number = float(str(value))
    except ValueError:
        return None
    return int(number) if number.is_integer() else round(number, 3)


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
