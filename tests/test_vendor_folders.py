"""pdf.js's CMaps and standard fonts come from node_modules through the vendor route, public (the preview's
worker fetches them without a session), and nothing outside their two folders does."""

from __future__ import annotations

import pytest

from webapp.views.assets import NODE_MODULES, VENDOR_FOLDERS


@pytest.mark.parametrize(("folder", "name"), [("pdfjs/cmaps", "UniGB-UCS2-H.bcmap"),
                                              ("pdfjs/standard_fonts", "LiberationSans-Regular.ttf")])
def test_the_folders_files_are_served_as_npm_installed_them(client, folder: str, name: str) -> None:  # type: ignore[no-untyped-def]
    answer = client.get(f"/static/vendor/{folder}/{name}")
    assert answer.status_code == 200
    assert answer.data == (NODE_MODULES / VENDOR_FOLDERS[folder] / name).read_bytes()


@pytest.mark.parametrize("path", ["pdfjs/cmaps/../../pdfjs-dist/package.json", "pdfjs/cmaps/%2e%2e%2fLICENSE",
                                  "pdfjs/cmaps/.hidden", "pdfjs/cmaps/", "pdfjs/cmaps/no-such.bcmap",
                                  "pdfjs/build/pdf.mjs", "pdfjs-dist/cmaps/UniGB-UCS2-H.bcmap"])
def test_nothing_else_is_served(client, path: str) -> None:  # type: ignore[no-untyped-def]
    assert client.get(f"/static/vendor/{path}").status_code == 404
