"""Files the document-manager tests share."""

from __future__ import annotations

import io


def red_pdf() -> bytes:
    """Two A4 pages, the first one red all over (a thumbnail or a preview of it is red in the middle)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    out = io.BytesIO()
    page = canvas.Canvas(out, pagesize=A4)
    page.setFillColorRGB(0.9, 0.1, 0.1)
    page.rect(0, 0, A4[0], A4[1], fill=1, stroke=0)
    page.setFillColorRGB(1, 1, 1)
    page.drawString(72, 760, "Huitong thumbnail test")
    page.showPage()
    page.drawString(72, 760, "second page")
    page.save()
    return out.getvalue()
