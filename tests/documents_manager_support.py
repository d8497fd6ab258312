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

def cjk_pdf() -> bytes:
    """One A4 page of Chinese in STSong-Light, a CID font reportlab names but does not embed (as many office
    PDFs do): a viewer needs the UniGB-UCS2-H CMap to find the characters, and draws nothing without it."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    out = io.BytesIO()
    page = canvas.Canvas(out, pagesize=A4)
    page.setFont("STSong-Light", 48)
    for line, text in enumerate(("会议纪要", "预算审批通过", "财务部 法务部")):
        page.drawString(72, 700 - line * 90, text)
    page.showPage()
    page.save()
    return out.getvalue()
