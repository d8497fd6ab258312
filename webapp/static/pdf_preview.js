// The document page's preview of a PDF: pdf.js (npm, served locally with its worker) draws the first pages
// from the download route. No eval (the CSP forbids it); one request for the file, not ranges (each request
// to the download route is an audited download). The CMaps and standard fonts (npm, served locally too) let
// pdf.js draw text in fonts a PDF names but does not embed, as Chinese office PDFs often do (STSong-Light).
const box = document.querySelector("[data-pdf-preview]");

async function preview(box) {
  const pdfjs = await import(box.dataset.pdfjs);
  pdfjs.GlobalWorkerOptions.workerSrc = box.dataset.worker;
  const pdf = await pdfjs.getDocument({
    url: box.dataset.src, isEvalSupported: false, disableRange: true, disableStream: true, disableAutoFetch: true,
    withCredentials: true, cMapUrl: box.dataset.cmaps, cMapPacked: true, standardFontDataUrl: box.dataset.fonts,
  }).promise;
  const pages = Math.min(pdf.numPages, Number(box.dataset.pages || 3));
  box.querySelector(".pdf-loading")?.remove();
  for (let number = 1; number <= pages; number += 1) {
    const page = await pdf.getPage(number);
    const natural = page.getViewport({ scale: 1 });
    const width = Math.min(box.clientWidth || 600, 900);
    const viewport = page.getViewport({ scale: (width / natural.width) * (window.devicePixelRatio || 1) });
    const canvas = document.createElement("canvas");
    canvas.width = Math.floor(viewport.width);
    canvas.height = Math.floor(viewport.height);
    canvas.setAttribute("role", "img");
    canvas.setAttribute("aria-label", box.dataset.pageLabel.replace("{n}", String(number)));
    box.appendChild(canvas);
    await page.render({ canvasContext: canvas.getContext("2d"), viewport }).promise;
    canvas.dataset.rendered = "true";
  }
}

if (box) {
  preview(box).catch(() => {
    box.replaceChildren();
    const note = document.createElement("p");
    note.className = "muted";
    note.textContent = box.dataset.failed;
    box.appendChild(note);
  });
}
