"""Workflow definitions: validation of the JSON-serialisable dict a designer produces, and of form values.

A definition is data, never code: it goes in as a plain dict, comes out normalised (every
optional part filled in) or is refused with a :class:`DefinitionError` that lists every problem
with its path (``steps[1].responsible[0].code: ...``), so a designer can show them all at once.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

FIELD_TYPES = ("text", "number", "money", "date", "select", "file")
APPROVAL_MODES = ("single", "any", "all")  # single; any-of 或签; all-of 会签
REJECT_TARGETS = ("initiator", "step", "end")
RULE_KINDS = ("department", "position", "department_head", "initiator_head", "budget_owner", "person")
SLA_UNITS = ("hours", "working_hours", "working_days")
PROJECT_SOURCE = "projects"  # a select whose options are the organisation's project codes
_KEY = re.compile(r"^[a-z][a-z0-9_-]{0,63}$")
_MAX_TEXT = 10_000


class WorkflowError(ValueError):
    """Base of every domain error of the workflow engine."""


class DefinitionError(WorkflowError):
    """A workflow definition is invalid; ``errors`` lists every problem with its path."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("invalid workflow definition:\n" + "\n".join(f"- {e}" for e in errors))
        self.errors = errors


class FormError(WorkflowError):
    """Form values are invalid; ``errors`` maps each field name to its problem."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("invalid form: " + "; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


def definition_hash(definition: dict[str, Any]) -> str:
    """Content hash of a normalised definition (publishing the same content twice is a no-op)."""
    canonical = json.dumps(definition, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def validate_definition(raw: Any) -> dict[str, Any]:
    """The normalised definition, or :class:`DefinitionError` listing every problem."""
    errors: list[str] = []
    if not isinstance(raw, dict):
        raise DefinitionError(["definition: must be an object"])
    try:
        json.dumps(raw)
    except (TypeError, ValueError) as error:
        raise DefinitionError([f"definition: not JSON-serialisable ({error})"]) from error
    _unknown(raw, {"key", "name", "description", "form", "steps", "allow_withdraw", "cc", "acceptance"}, "definition",
             errors)
    key = raw.get("key")
    if not isinstance(key, str) or not _KEY.match(key):
        errors.append("key: required, lower-case letters, digits, '-' or '_', starting with a letter")
    form = _fields(raw.get("form", []), "form", errors)
    steps_raw = raw.get("steps")
    steps: list[dict[str, Any]] = []
    if not isinstance(steps_raw, list) or not steps_raw:
        errors.append("steps: at least one step is required")
    else:
        for i, step in enumerate(steps_raw):
            steps.append(_step(step, f"steps[{i}]", form, errors))
        _check_step_links(steps, errors)
    cc = [_rule(r, f"cc[{i}]", form, errors) for i, r in enumerate(_list(raw.get("cc", []), "cc", errors))]
    allow_withdraw = raw.get("allow_withdraw", True)
    if not isinstance(allow_withdraw, bool):
        errors.append("allow_withdraw: must be true or false")
    acceptance = raw.get("acceptance", False)
    if not isinstance(acceptance, bool):
        errors.append("acceptance: must be true or false")
    if errors:
        raise DefinitionError(errors)
    normalised = {"key": key, "name": _name(raw.get("name"), "name", errors),
                  "description": _name(raw.get("description"), "description", errors, required=False),
                  "form": form, "steps": steps, "cc": cc, "allow_withdraw": allow_withdraw}
    # Acceptance feedback is a step the designer asks for explicitly; only present when chosen, so the
    # content hash of every definition published before the option existed stays the same.
    if acceptance:
        normalised["acceptance"] = True
    return normalised


def _step(raw: Any, path: str, form: list[dict[str, Any]], errors: list[str]) -> dict[str, Any]:
    if not isinstance(raw, dict):
        errors.append(f"{path}: must be an object")
        return {}
    _unknown(raw, {"key", "name", "responsible", "approval", "sla", "requirements", "attachments", "fields",
                   "on_reject"}, path, errors)
    key = raw.get("key")
    if not isinstance(key, str) or not _KEY.match(key):
        errors.append(f"{path}.key: required, lower-case letters, digits, '-' or '_'")
    approval = raw.get("approval", "single")
    if approval not in APPROVAL_MODES:
        errors.append(f"{path}.approval: must be one of {', '.join(APPROVAL_MODES)}")
    responsible_raw = raw.get("responsible")
    rules_raw = responsible_raw if isinstance(responsible_raw, list) else [responsible_raw]
    rules = [_rule(r, f"{path}.responsible[{i}]", form, errors) for i, r in enumerate(rules_raw)]
    if approval == "single" and len(rules) != 1:
        errors.append(f"{path}.responsible: a single-approver step names exactly one responsible")
    if not rules:
        errors.append(f"{path}.responsible: required")
    requirements = []
    for i, item in enumerate(_list(raw.get("requirements", []), f"{path}.requirements", errors)):
        if isinstance(item, str) and item.strip():
            item = {"key": f"r{i + 1}", "label": {"zh": item.strip(), "en": item.strip()}}
        if not isinstance(item, dict) or not isinstance(item.get("key"), str) or not item["key"]:
            errors.append(f"{path}.requirements[{i}]: a text, or an object with key and label")
            continue
        requirements.append({"key": item["key"], "label": _name(item.get("label"), f"{path}.requirements[{i}].label",
                                                                 errors)})
    attachments = _list(raw.get("attachments", []), f"{path}.attachments", errors)
    if not all(isinstance(a, str) and _KEY.match(a) for a in attachments):
        errors.append(f"{path}.attachments: a list of attachment keys (lower-case identifiers)")
    return {
        "key": key, "name": _name(raw.get("name"), f"{path}.name", errors), "responsible": rules,
        "approval": approval, "sla": _sla(raw.get("sla"), f"{path}.sla", errors), "requirements": requirements,
        "attachments": list(attachments), "fields": _fields(raw.get("fields", []), f"{path}.fields", errors),
        "on_reject": _on_reject(raw.get("on_reject", {"to": "initiator"}), f"{path}.on_reject", errors),
    }


def _check_step_links(steps: list[dict[str, Any]], errors: list[str]) -> None:
    seen: list[str] = []
    for i, step in enumerate(steps):
        key = step.get("key")
        if key in seen:
            errors.append(f"steps[{i}].key: duplicate step key {key!r}")
        target = (step.get("on_reject") or {}).get("step")
        if target is not None and target not in seen:
            errors.append(f"steps[{i}].on_reject.step: {target!r} is not an earlier step")
        seen.append(key)  # type: ignore[arg-type]


def _rule(raw: Any, path: str, form: list[dict[str, Any]], errors: list[str]) -> dict[str, Any]:
    if not isinstance(raw, dict) or raw.get("kind") not in RULE_KINDS:
        errors.append(f"{path}: an object whose kind is one of {', '.join(RULE_KINDS)}")
        return {}
    kind = raw["kind"]
    if kind in ("department", "position", "department_head"):
        if not isinstance(raw.get("code"), str) or not raw["code"]:
            errors.append(f"{path}.code: the department or position code is required")
        return {"kind": kind, "code": raw.get("code")}
    if kind == "person":
        if not isinstance(raw.get("username"), str) or not raw["username"]:
            errors.append(f"{path}.username: required")
        return {"kind": kind, "username": raw.get("username")}
    if kind == "budget_owner":
        field_name = raw.get("field", "project")
        match = [f for f in form if f["name"] == field_name]
        if not match or match[0]["type"] != "select" or match[0].get("source") != PROJECT_SOURCE:
            errors.append(f"{path}.field: {field_name!r} must be a form select with source {PROJECT_SOURCE!r}")
        return {"kind": kind, "field": field_name}
    return {"kind": kind}


def _sla(raw: Any, path: str, errors: list[str]) -> dict[str, float] | None:
    if raw is None:
        return None
    if not isinstance(raw, dict) or len(raw) != 1 or next(iter(raw)) not in SLA_UNITS:
        errors.append(f"{path}: one of {{{', '.join(SLA_UNITS)}: number}}")
        return None
    (unit, amount), = raw.items()
    if isinstance(amount, bool) or not isinstance(amount, (int, float)) or not 0 < amount <= 10_000:
        errors.append(f"{path}.{unit}: a positive number")
        return None
    return {unit: amount}


def _on_reject(raw: Any, path: str, errors: list[str]) -> dict[str, Any]:
    if isinstance(raw, str):
        raw = {"to": raw}
    if not isinstance(raw, dict) or raw.get("to") not in REJECT_TARGETS:
        errors.append(f"{path}.to: one of {', '.join(REJECT_TARGETS)}")
        return {"to": "initiator"}
    if raw["to"] == "step":
        if not isinstance(raw.get("step"), str):
            errors.append(f"{path}.step: the earlier step to return to is required")
        return {"to": "step", "step": raw.get("step")}
    return {"to": raw["to"]}


def _fields(raw: Any, path: str, errors: list[str]) -> list[dict[str, Any]]:
    fields: list[dict[str, Any]] = []
    names: set[str] = set()
    for i, item in enumerate(_list(raw, path, errors)):
        where = f"{path}[{i}]"
        if not isinstance(item, dict):
            errors.append(f"{where}: must be an object")
            continue
        _unknown(item, {"name", "label", "type", "required", "min", "max", "min_length", "max_length", "options",
                        "source", "multiple", "integer"}, where, errors)
        name, kind = item.get("name"), item.get("type")
        if not isinstance(name, str) or not _KEY.match(name):
            errors.append(f"{where}.name: required, a lower-case identifier")
        elif name in names:
            errors.append(f"{where}.name: duplicate field {name!r}")
        names.add(str(name))
        if kind not in FIELD_TYPES:
            errors.append(f"{where}.type: one of {', '.join(FIELD_TYPES)}")
            continue
        spec: dict[str, Any] = {"name": name, "type": kind, "label": _name(item.get("label", {"zh": name, "en": name}),
                                                                          f"{where}.label", errors),
                                "required": bool(item.get("required", False))}
        for bound in ("min", "max") if kind in ("number", "money") else ("min_length", "max_length") \
                if kind == "text" else ():
            if bound in item:
                if isinstance(item[bound], bool) or not isinstance(item[bound], (int, float)):
                    errors.append(f"{where}.{bound}: a number")
                spec[bound] = item[bound]
        if kind == "number":
            spec["integer"] = bool(item.get("integer", False))
        if kind == "select":
            if item.get("source") == PROJECT_SOURCE:
                spec["source"] = PROJECT_SOURCE
            else:
                options = item.get("options")
                if not isinstance(options, list) or not options or not all(isinstance(o, str) for o in options):
                    errors.append(f"{where}.options: a non-empty list of strings (or source {PROJECT_SOURCE!r})")
                spec["options"] = options
        if kind == "file":
            spec["multiple"] = bool(item.get("multiple", False))
        fields.append(spec)
    return fields


def _name(raw: Any, path: str, errors: list[str], *, required: bool = True) -> dict[str, str]:
    if raw is None and not required:
        return {"zh": "", "en": ""}
    if isinstance(raw, str):
        raw = {"zh": raw, "en": raw}
    if not isinstance(raw, dict) or not any(isinstance(raw.get(k), str) and raw[k].strip() for k in ("zh", "en")):
        errors.append(f"{path}: a name in Chinese and/or English ({{'zh': ..., 'en': ...}})")
        return {"zh": "", "en": ""}
    zh, en = str(raw.get("zh") or raw.get("en")).strip(), str(raw.get("en") or raw.get("zh")).strip()
    return {"zh": zh, "en": en}


def _list(raw: Any, path: str, errors: list[str]) -> list[Any]:
    if not isinstance(raw, list):
        errors.append(f"{path}: must be a list")
        return []
    return raw


def _unknown(raw: dict[str, Any], allowed: set[str], path: str, errors: list[str]) -> None:
    for key in sorted(set(raw) - allowed):
        errors.append(f"{path}.{key}: unknown property")


# -- form values ---------------------------------------------------------------------------------


def validate_form(fields: list[dict[str, Any]], values: Any, *, projects: set[str] | None = None) -> dict[str, Any]:
    """Clean form values (money as a 2-decimal string, dates ISO) or raise :class:`FormError`.

    ``projects`` is the set of known project codes for selects with ``source: projects``.
    """
    if values is None:
        values = {}
    if not isinstance(values, dict):
        raise FormError({"form": "must be an object"})
    errors: dict[str, str] = {}
    clean: dict[str, Any] = {}
    known = {f["name"] for f in fields}
    for name in sorted(set(values) - known):
        errors[name] = "unknown field"
    for spec in fields:
        name = spec["name"]
        value = values.get(name)
        if value is None or value == "" or value == []:
            if spec["required"]:
                errors[name] = "required"
            continue
        try:
            clean[name] = _clean(spec, value, projects)
        except ValueError as error:
            errors[name] = str(error)
    if errors:
        raise FormError(errors)
    return clean


def _clean(spec: dict[str, Any], value: Any, projects: set[str] | None) -> Any:
    kind = spec["type"]
    if kind == "text":
        if not isinstance(value, str):
            raise ValueError("must be text")
        text = value.strip()
        shortest, longest = spec.get("min_length", 0), spec.get("max_length", _MAX_TEXT)
        if not shortest <= len(text) <= longest:
            raise ValueError(f"length must be between {shortest} and {longest}")
        return text
    if kind in ("number", "money"):
        number = _decimal(value)
        if kind == "number" and spec.get("integer") and number != number.to_integral_value():
            raise ValueError("must be a whole number")
        if kind == "money" and number.as_tuple().exponent < -2:  # type: ignore[operator]
            raise ValueError("at most two decimal places")
        if "min" in spec and number < Decimal(str(spec["min"])):
            raise ValueError(f"must be at least {spec['min']}")
        if "max" in spec and number > Decimal(str(spec["max"])):
            raise ValueError(f"must be at most {spec['max']}")
        if kind == "money":
            return f"{number:.2f}"
        return int(number) if number == number.to_integral_value() else float(number)
    if kind == "date":
        try:
            return date.fromisoformat(str(value)).isoformat()
        except ValueError:
            raise ValueError("must be a date YYYY-MM-DD") from None
    if kind == "select":
        allowed = projects if spec.get("source") == PROJECT_SOURCE else set(spec.get("options") or [])
        if not isinstance(value, str) or (allowed is not None and value not in allowed):
            raise ValueError(f"{value!r} is not one of the options")
        return value
    files = value if isinstance(value, list) else [value]
    if len(files) > 1 and not spec.get("multiple"):
        raise ValueError("only one file")
    for item in files:
        if not isinstance(item, dict) or not isinstance(item.get("name"), str) or not item["name"].strip():
            raise ValueError("a file is {'name': ..., 'document_id': ...}")
    return [{"name": f["name"].strip(), "document_id": f.get("document_id")} for f in files]


def _decimal(value: Any) -> Decimal:
    if isinstance(value, bool):
        raise ValueError("must be a number")
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError("must be a number") from None
    if not number.is_finite():
        raise ValueError("must be a finite number")
    return number
