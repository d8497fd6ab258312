"""A background htmx request (a live refresh racing the redirect after a form) must not take the flashed
messages meant for the page the browser is about to load."""

from __future__ import annotations

from flask import Flask, flash, render_template, session


def _render(app: Flask, headers: dict[str, str]) -> tuple[str, object]:
    with app.test_request_context("/documents", headers=headers):
        flash("2 documents classified.", "success")
        page = render_template("ui/_flashes.html")
        return page, session.get("_flashes")


def test_an_htmx_request_leaves_the_messages_for_the_next_page(app: Flask) -> None:
    page, kept = _render(app, {"HX-Request": "true"})
    assert "2 documents classified." not in page and kept  # still waiting for the full page


def test_a_page_shows_and_takes_them(app: Flask) -> None:
    page, kept = _render(app, {})
    assert "2 documents classified." in page and not kept
