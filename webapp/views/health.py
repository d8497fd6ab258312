"""``/healthz``: machine-readable health for load balancers and monitors (no auth, no secrets)."""

from __future__ import annotations

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue

from webapp import services
from webapp.health import index_build, index_health, workers_or_none
from workers.broker import broker_ok

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    settings = services.settings()
    checks = {
        "graph": services.graph_health(services.store())[0],
        "broker": broker_ok(settings, timeout=2.0)[0],
        "index": index_health(settings)[0],
    }
    body: dict[str, object] = {name: "ok" if healthy else "error" for name, healthy in checks.items()}
    if checks["broker"]:
        # Reported, not judged: a site whose workers are down still serves every page.
        body["workers"] = workers_or_none(settings)
    body["index_build"] = index_build(settings)  # reported, not judged: search answers meanwhile
    return jsonify(body), 200 if all(checks.values()) else 503
