"""``huitong user add|list`` and ``huitong dept list`` as real subprocesses against the real graph."""

from __future__ import annotations

import json
import uuid

from flask import Flask
from helpers import run_cli
from web_support import client_from, random_address, sign_in

from graph.audit import AuditFilter, list_events
from graph.falkordb_backend import FalkorStore


def _username() -> str:
    return f"cli.{uuid.uuid4().hex[:8]}"


def test_dept_list_json(demo: FalkorStore) -> None:
    done = run_cli("dept", "list", "--json")
    assert done.returncode == 0, done.stderr
    departments = {d["code"]: d for d in json.loads(done.stdout)}
    assert departments["FIN-ACC"] == {"code": "FIN-ACC", "name": "会计组", "parent": "FIN"}
    assert departments["HQ"]["parent"] is None
    assert all(set(d) == {"code", "name", "parent"} for d in departments.values())
    text = run_cli("dept", "list")
    assert text.returncode == 0 and "FIN-ACC" in text.stdout and "会计组" in text.stdout


def test_user_add_then_sign_in(app: Flask, demo: FalkorStore) -> None:
    username = _username()
    done = run_cli("user", "add", username, "--name", "王小明", "--department", "RND-PLT", "--role", "manager",
                   "--email", f"{username}@cli.example", "--password-stdin", input="cli password 1\n")
    assert done.returncode == 0, done.stderr
    assert f"created {username}" in done.stdout and "manager" in done.stdout
    listed = {p["username"]: p for p in json.loads(run_cli("user", "list", "--json").stdout)}
    assert listed[username]["departments"] == ["RND-PLT"]
    assert sorted(listed[username]["roles"]) == ["manager", "member"] and listed[username]["active"] is True
    assert sign_in(client_from(app, random_address()), f"{username}@cli.example", "cli password 1").status_code == 302
    created = list_events(demo, AuditFilter(action="person.create", target_id=listed[username]["id"]))
    assert len(created) == 1 and created[0]["client"] == "cli" and created[0]["target_linked"]


def test_user_add_defaults_to_member(demo: FalkorStore) -> None:
    username = _username()
    assert run_cli("user", "add", username, "--name", "Ann Lee", "--department", "HR",
                   "--password-stdin", input="member pass 1").returncode == 0
    listed = {p["username"]: p for p in json.loads(run_cli("user", "list", "--json").stdout)}
    assert listed[username]["roles"] == ["member"]
    assert username in run_cli("user", "list").stdout


def test_user_add_errors_are_clear_and_change_nothing(demo: FalkorStore) -> None:
    taken = _username()
    assert run_cli("user", "add", taken, "--name", "A", "--department", "FIN", "--password-stdin",
                   input="first pass 1\n").returncode == 0
    before = run_cli("user", "list", "--json").stdout
    cases = [
        ((_username(), "--department", "NOPE"), "pw long enough\n", "unknown department 'NOPE'"),
        ((taken, "--department", "FIN"), "pw long enough\n", f"the username '{taken}' is taken"),
        ((_username(), "--department", "FIN"), "\n", "the password is empty"),
        ((_username(), "--department", "FIN"), "", "the password is empty"),
        ((_username(), "--department", "FIN"), "short\n", "at least 8 characters"),
        ((_username(), "--department", "FIN", "--role", "root"), "pw long enough\n", "'root' is not one of"),
        (("Bad Name", "--department", "FIN"), "pw long enough\n", "a username is"),
    ]
    for args, stdin, message in cases:
        done = run_cli("user", "add", args[0], "--name", "X", *args[1:], "--password-stdin", input=stdin)
        assert done.returncode != 0, args
        assert message in done.stderr, (args, done.stderr)
        assert "Traceback" not in done.stderr
    no_stdin = run_cli("user", "add", _username(), "--name", "X", "--department", "FIN")
    assert no_stdin.returncode == 2 and "--password-stdin" in no_stdin.stderr
    assert json.loads(run_cli("user", "list", "--json").stdout) == json.loads(before)
