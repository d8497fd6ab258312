"""WSGI entry point for any plain WSGI server: ``webapp.wsgi:app``.

``huitong web`` does not use it: it serves :func:`webapp.asgi.create_front`, which keeps idle and slow
connections and live streams off the request threads. Under a plain WSGI server live streams fall back
to holding a thread each (see :mod:`webapp.events`).
"""

from webapp import create_app

app = create_app()
