"""The OpenAPI 3.1 document of ``/api/v1``, generated from the registered operations and their pydantic
models with apispec, and the interactive docs page (Swagger UI from npm, served from node_modules)."""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from apispec import APISpec
from flask import Response, jsonify, render_template
from flask.typing import ResponseReturnValue
from pydantic import BaseModel

from webapp.api import models as m
from webapp.api.core import OPERATIONS, Operation, bp

VERSION = "1.0.0"
_PATH_PARAM = re.compile(r"<(?:[a-z_]+:)?([a-z_]+)>")
REF = "#/components/schemas/{model}"
# Swagger UI sets styles from script; the rest of the site keeps the strict policy.
DOCS_POLICY = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'"


def _schema(spec: APISpec, model: type[BaseModel]) -> dict[str, Any]:
    """Register ``model`` (and the models it uses) as components; return a reference to it."""
    name = model.__name__
    if name not in spec.components.schemas:
        schema = model.model_json_schema(ref_template=REF, mode="serialization")
        for sub_name, sub in schema.pop("$defs", {}).items():
            if sub_name not in spec.components.schemas:
                spec.components.schema(sub_name, component=sub)
        spec.components.schema(name, component=schema)
    return {"$ref": REF.format(model=name)}


def _response(spec: APISpec, status: int, answer: Any) -> dict[str, Any]:
    if answer == "binary":
        return {"description": "The file", "content": {"application/octet-stream": {
            "schema": {"type": "string", "format": "binary"}}}}
    media = "application/problem+json" if answer is m.Problem else "application/json"
    schema = _schema(spec, answer) if isinstance(answer, type) else answer
    content = {media: {"schema": schema}}
    if status >= 400:  # the input guard and the door refuse any request as a problem
        content.setdefault("application/problem+json", {"schema": _schema(spec, m.Problem)})
    return {"description": "Refused" if status >= 400 else "OK", "content": content}


def _parameters(op: Operation, path_names: list[str]) -> list[dict[str, Any]]:
    params: list[dict[str, Any]] = [{"name": name, "in": "path", "required": True,
                                     "schema": {"type": "string", "minLength": 1, "maxLength": 100}}
                                    for name in path_names]
    if op.query is not None:
        schema = op.query.model_json_schema(ref_template=REF)
        required = set(schema.get("required", []))
        for name, prop in schema["properties"].items():
            params.append({"name": name, "in": "query", "required": name in required, "schema": prop})
    for name, required, prop in getattr(op, "query_parameters", []):  # handlers that parse their own query
        params.append({"name": name, "in": "query", "required": required, "schema": prop,
                       **({"style": "form", "explode": True} if prop.get("type") == "array" else {})})
    return params


def _operation(spec: APISpec, op: Operation, path_names: list[str]) -> dict[str, Any]:
    responses = {str(status): _response(spec, status, answer) for status, answer in op.responses.items()}
    for status in (400, 401, 429):
        responses.setdefault(str(status), _response(spec, status, m.Problem))
    if op.method != "GET" or op.scope != "read":
        responses.setdefault("403", _response(spec, 403, m.Problem))
    body: dict[str, Any] = {}
    if op.body is not None:
        body = {"requestBody": {"required": True, "content": {"application/json": {"schema": _schema(spec, op.body)}}}}
    elif op.multipart is not None:
        body = {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": op.multipart}}}}
    return {"summary": op.summary, "operationId": op.endpoint, "tags": [op.tag],
            "description": f"Token scope: `{op.scope}`.", "parameters": _parameters(op, path_names),
            "responses": responses, **body}


@cache
def document() -> dict[str, Any]:
    """The whole OpenAPI document (built once per process: the operations are fixed at import)."""
    spec = APISpec(title="Huitong API", version=VERSION, openapi_version="3.1.0", info={
        "description": "Documents, search, decisions, workflows, notifications and the organisation. Send a "
                       "personal access token as `Authorization: Bearer ht_…` (account page or "
                       "`huitong token create`). Errors are RFC 7807 problems (`application/problem+json`) in "
                       "the language of `Accept-Language` (zh-CN or en).",
    })
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    spec.components.security_scheme("cookie", {"type": "apiKey", "in": "cookie", "name": "session"})
    paths: dict[str, dict[str, Any]] = {}
    for op in OPERATIONS:
        names = _PATH_PARAM.findall(op.rule)
        path = "/api/v1" + _PATH_PARAM.sub(r"{\1}", op.rule)
        paths.setdefault(path, {})[op.method.lower()] = _operation(spec, op, names)
    for path, operations in paths.items():
        spec.path(path=path, operations=operations)
    out = spec.to_dict()
    out["security"] = [{"bearer": []}, {"cookie": []}]
    return out


@bp.get("/openapi.json")
def openapi_json() -> ResponseReturnValue:
    return jsonify(document())


@bp.get("/docs")
def docs() -> ResponseReturnValue:
    response = Response(render_template("api/docs.html"))
    response.headers["Content-Security-Policy"] = DOCS_POLICY
    return response
