"""Is a byte string text, and in which encoding? (Chinese files come in GB18030 as often as UTF-8.)"""

from __future__ import annotations

import codecs
import re

import charset_normalizer

# Enough for every magic number and for the first entries of a zip container.
HEAD_SIZE = 64 * 1024
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


def looks_like_text(sample: str) -> bool:
    """Decoded text with (almost) no control characters, as binary data decoded by force has."""
    if not sample:
        return True
    return len(_CONTROL.findall(sample)) <= len(sample) / 200


def _decode_prefix(data: bytes, encoding: str) -> str:
    # Incremental decoding forgives a multi-byte character cut off at the end of the sample.
    return codecs.getincrementaldecoder(encoding)(errors="replace").decode(data, final=False)


def _decodes(data: bytes, encoding: str) -> str | None:
    try:
        return codecs.getincrementaldecoder(encoding)(errors="strict").decode(data, final=False)
    except UnicodeDecodeError:
        return None


def _mostly_simplified_chinese(text: str) -> bool:
    """True when the non-ASCII characters are nearly all in GB2312, the common-character set.

    Western 8-bit text and other CJK encodings often decode as valid GB18030 too, but into rare
    characters outside GB2312; real GBK text rarely leaves it.
    """
    # A sample decides: the verdict does not change past a few thousand characters.
    wide = [ch for ch in text[:100_000] if ord(ch) > 0x7F][:5000]
    if not wide:
        return False
    common = 0
    for ch in wide:
        try:
            ch.encode("gb2312")
            common += 1
        except UnicodeEncodeError:
            pass
    return common >= 0.95 * len(wide)


_CHINESE_CODECS = {"gb2312", "gbk", "gb18030", "hz", "cp936"}


def guess_encoding(data: bytes) -> str | None:
    """Python codec name for text ``data`` (a whole file or its head), or None for binary.

    Order of belief: a BOM; strict UTF-8; GB18030 when it yields common simplified Chinese;
    UTF-16 without BOM (ASCII-heavy text has every other byte zero); charset-normalizer.
    """
    if data.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if data.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        return "utf-32"
    if data.startswith(_UTF16_BOMS):
        return "utf-16"
    if b"\x00" in data:
        return _utf16_without_bom(data)
    if _decodes(data, "utf-8") is not None:
        return "utf-8"
    text = _decodes(data, "gb18030")
    if text is not None and _mostly_simplified_chinese(text):
        return "gb18030"
    best = charset_normalizer.from_bytes(data[:HEAD_SIZE]).best()
    if best is None:
        return None
    encoding = best.encoding
    # GB2312/GBK labels undersell the file: GB18030 is their superset and never loses a character.
    return "gb18030" if encoding in _CHINESE_CODECS else encoding


def _utf16_without_bom(data: bytes) -> str | None:
    sample = data[:4096]
    pairs = len(sample) // 2
    if pairs < 2:
        return None
    high_zero = sum(1 for i in range(1, 2 * pairs, 2) if sample[i] == 0)
    low_zero = sum(1 for i in range(0, 2 * pairs, 2) if sample[i] == 0)
    for zeros, other, codec in ((high_zero, low_zero, "utf-16-le"), (low_zero, high_zero, "utf-16-be")):
        if zeros >= 0.4 * pairs and other <= 0.02 * pairs and _decodes(data, codec) is not None:
            return codec
    return None
