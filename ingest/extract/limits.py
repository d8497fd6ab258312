"""The bounds of the extractors that can run long or blow up (OCR, legacy Office formats)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

from settings import Settings, get_settings


@dataclass(frozen=True, slots=True)
class Limits:
    ocr: bool = True
    ocr_engine: str = "rapidocr"
    ocr_max_pages: int = 50
    max_pixels: int = 60_000_000
    timeout_s: float = 300.0
    memory_mb: int = 3072
    # False inside the child process, which is already isolated.
    isolate: bool = True

    @classmethod
    def from_settings(cls, settings: Settings) -> Limits:
        return cls(ocr=settings.ocr, ocr_engine=settings.ocr_engine, ocr_max_pages=settings.ocr_max_pages,
                   max_pixels=settings.max_image_megapixels * 1_000_000, timeout_s=float(settings.extract_timeout_s),
                   memory_mb=settings.extract_memory_mb)

    def as_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Limits:
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})

    def inside_child(self) -> Limits:
        return replace(self, isolate=False)


def current() -> Limits:
    """The limits of this process's settings (``HUITONG_OCR*``, ``HUITONG_EXTRACT_*``)."""
    return Limits.from_settings(get_settings())
