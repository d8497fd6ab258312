"""The live-update bus, for the worker side and the SSE endpoints: it lives in :mod:`graph.live` so that
every layer that changes documents may announce (ingest must not import workers)."""

from graph.live import (
    PREFIX,
    async_connector,
    client,
    document_channel,
    encode,
    person_channel,
    publish,
    publish_to_people,
)

__all__ = ["PREFIX", "async_connector", "client", "document_channel", "encode", "person_channel", "publish",
           "publish_to_people"]
