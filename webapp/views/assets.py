"""Front-end libraries installed from npm (``npm ci``), served from node_modules: no CDN, works air-gapped."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, abort, send_from_directory
from flask.typing import ResponseReturnValue

NODE_MODULES = Path(__file__).resolve().parents[2] / "node_modules"

# Public name -> file inside node_modules. Only these files are served.
VENDOR_FILES: dict[str, str] = {
    "htmx.min.js": "htmx.org/dist/htmx.min.js",
    "htmx-sse.js": "htmx-ext-sse/dist/sse.js",
    "cytoscape.min.js": "cytoscape/dist/cytoscape.min.js",
    # The explorer's label-separating layout (fCoSE, MIT) and the two libraries it is built on.
    "layout-base.js": "layout-base/layout-base.js",
    "cose-base.js": "cose-base/cose-base.js",
    "cytoscape-fcose.js": "cytoscape-fcose/cytoscape-fcose.js",
    "echarts.min.js": "echarts/dist/echarts.min.js",
    "swagger-ui-bundle.js": "swagger-ui-dist/swagger-ui-bundle.js",
    "swagger-ui.css": "swagger-ui-dist/swagger-ui.css",
    # The design system: Bootstrap 5 (MIT) and its icon font (MIT). The icon stylesheet loads its fonts
    # from ./fonts/ next to itself, hence the two font paths.
    "bootstrap.min.css": "bootstrap/dist/css/bootstrap.min.css",
    "bootstrap.bundle.min.js": "bootstrap/dist/js/bootstrap.bundle.min.js",
    "bootstrap-icons.min.css": "bootstrap-icons/font/bootstrap-icons.min.css",
    "fonts/bootstrap-icons.woff2": "bootstrap-icons/font/fonts/bootstrap-icons.woff2",
    "fonts/bootstrap-icons.woff": "bootstrap-icons/font/fonts/bootstrap-icons.woff",
    # The document page's PDF preview: pdf.js (Apache-2.0) and its worker, both ES modules.
    "pdf.min.mjs": "pdfjs-dist/build/pdf.min.mjs",
    "pdf.worker.min.mjs": "pdfjs-dist/build/pdf.worker.min.mjs",
}
# Public folder -> folder inside node_modules, every file in it served. pdf.js reads these when a PDF names a
# font it does not embed: the packed CMaps map the codes of CJK fonts (e.g. STSong-Light, UniGB-UCS2-H) to
# characters, the standard fonts stand in for the 14 base fonts. Without them such text is drawn blank.
VENDOR_FOLDERS: dict[str, str] = {
    "pdfjs/cmaps": "pdfjs-dist/cmaps",
    "pdfjs/standard_fonts": "pdfjs-dist/standard_fonts",
}

bp = Blueprint("assets", __name__)


def _vendor_path(name: str) -> Path | None:
    """The file in node_modules behind a public name, or None when the name is not served."""
    relative = VENDOR_FILES.get(name)
    if relative is not None:
        return NODE_MODULES / relative
    folder, _, file_name = name.rpartition("/")
    inside = VENDOR_FOLDERS.get(folder)
    if inside is None or not file_name or file_name.startswith("."):
        return None
    return NODE_MODULES / inside / file_name


@bp.get("/static/vendor/<path:name>")
def vendor(name: str) -> ResponseReturnValue:
    path = _vendor_path(name)
    if path is None:
        abort(404)
    if not path.is_file():
        abort(404, description=f"front-end asset {name} missing: run `npm ci`")
    # Module scripts need a JavaScript type (nosniff is set); Python 3.11's table does not know .mjs.
    mimetype = "text/javascript" if path.suffix == ".mjs" else None
    return send_from_directory(path.parent, path.name, max_age=3600, mimetype=mimetype)
