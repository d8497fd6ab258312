"""Outgoing webhooks against a real HTTP receiver on 127.0.0.1 that is down at first and comes up later.

Events are made the real way (uploads, a new version, a share through the document functions; a
decision event as the decision area will audit it), two dispatchers run side by side as two workers
would, and the receiver checks every signature. Expected: every event arrives, each delivery once.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time

import pytest
from helpers import run_cli, wait_until
from webhook_support import Receiver, free_port

from graph import audit, webhooks
from graph.actor import Actor
from graph.demo_org import load_demo_org
from graph.errors import InvalidInput, NotPermitted
from graph.falkordb_backend import FalkorStore
from graph.queries import org
from settings import Settings
from workers.webhooks import RetryPolicy, dispatch

SECRET = "a-very-secret-signing-key"
ADMIN = Actor(person_id="", username="test", roles=frozenset({"admin"}), door="cli")
POLICY = RetryPolicy(base_seconds=0.3, max_attempts=12)


def _verified(receiver: Receiver) -> list[dict]:  # type: ignore[type-arg]
    out = []
    for got in receiver.received:
        expected = "sha256=" + hmac.new(SECRET.encode(), got.body, hashlib.sha256).hexdigest()
        assert got.headers["X-Huitong-Signature"] == expected
        assert got.headers["Content-Type"].startswith("application/json")
        out.append({**got.json(), "delivery": got.headers["X-Huitong-Delivery"],
                    "header_event": got.headers["X-Huitong-Event"]})
    return out


def _make_events(store: FalkorStore, settings: Settings) -> tuple[str, list[str]]:
    from graph import documents as docs
    from ingest import uploads

    owner = store.run(org.PERSON_BY_USERNAME, {"username": "admin"})[0]["id"]
    made = []
    for n in range(3):
        up = uploads.upload(store, settings, f"webhook test document {n} {time.time()}".encode(), f"wh-{n}.txt",
                             owner, "general", "internal", enqueue=None, client="test")
        made.append(up.document_id)
    uploads.upload(store, settings, f"second version {time.time()}".encode(), "wh-0.txt", owner,
                    document_id=made[0], enqueue=None, client="test")
    docs.share(store, owner, made[1], f"department:{_some_department(store)}")
    audit.record(store, action="decision.recorded", actor_id=owner, target_kind="decision", target_id="dec-1",
                 detail={"outcome": "approve"})
    # Not a webhook event: never delivered.
    audit.record(store, action="document.view", actor_id=owner, target_kind="document", target_id=made[2])
    return owner, made


def _some_department(store: FalkorStore) -> str:
    from graph import accounts

    return accounts.list_departments(store)[0]["code"]


def test_down_receiver_gets_everything_once_after_retries(fresh_store: FalkorStore, settings: Settings) -> None:
    load_demo_org(fresh_store, "admin-test-password")
    port = free_port()
    receiver = Receiver(port)
    hook = webhooks.add_hook(fresh_store, ADMIN, f"{receiver.url}/hook", "document.created,document.version_added,"
                             "document.shared,decision.recorded,task.overdue", SECRET)
    other = webhooks.add_hook(fresh_store, ADMIN, f"{receiver.url}/other", ["decision.recorded"], SECRET)
    _owner, documents = _make_events(fresh_store, settings)

    # Receiver down: every attempt fails, and is logged with its error.
    first = dispatch(fresh_store, settings, policy=POLICY)
    assert first["queued"] == 7 and first["delivered"] == 0
    log = webhooks.list_deliveries(fresh_store, ADMIN, channel="webhook")
    assert len(log) == 7 and all(r["status"] == "pending" and r["attempts"] == 1 and r["last_error"] for r in log)
    time.sleep(0.4)
    dispatch(fresh_store, settings, policy=POLICY)
    assert receiver.received == []

    receiver.start()
    try:
        # Two dispatchers at once, as two workers on the beat would be.
        second = FalkorStore(fresh_store.server, fresh_store.graph_name)

        def loop(store: FalkorStore) -> None:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                dispatch(store, settings, policy=POLICY)
                if all(r["status"] == "delivered" for r in webhooks.list_deliveries(store, ADMIN)):
                    return
                time.sleep(0.05)

        threads = [threading.Thread(target=loop, args=(s,)) for s in (fresh_store, second)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(90)
        second.close()
    finally:
        receiver.stop()

    got = _verified(receiver)
    deliveries = [g["delivery"] for g in got]
    assert len(deliveries) == len(set(deliveries)) == 7, "nothing lost, nothing twice"
    to_hook = {(g["event"], g["target"]["id"]) for g in got}
    assert sorted(g["event"] for g in got) == sorted(["document.created"] * 3 + ["document.version_added",
                                                      "document.shared", "decision.recorded", "decision.recorded"])
    assert ("document.shared", documents[1]) in to_hook and ("document.version_added", documents[0]) in to_hook
    assert all(g["event"] == g["header_event"] for g in got)
    log = webhooks.list_deliveries(fresh_store, ADMIN)
    assert all(r["status"] == "delivered" and r["attempts"] >= 2 and r["last_code"] == 200 for r in log)
    assert {r["target_id"] for r in log} == {hook.id, other.id}

    # Nothing new happened: another round sends nothing. A replay sends the same delivery (id, body) again.
    receiver.start()
    try:
        assert dispatch(fresh_store, settings, policy=POLICY) == {"queued": 0, "delivered": 0, "pending": 0,
                                                                  "failed": 0}
        again = log[0]["id"]
        webhooks.replay(fresh_store, ADMIN, again)
        assert dispatch(fresh_store, settings, policy=POLICY)["delivered"] == 1
    finally:
        receiver.stop()
    replayed = [g for g in _verified(receiver) if g["delivery"] == again]
    assert len(replayed) == 2 and replayed[0]["id"] == replayed[1]["id"]
    assert [r["replays"] for r in webhooks.list_deliveries(fresh_store, ADMIN) if r["id"] == again] == [1]


def test_hook_rules(fresh_store: FalkorStore) -> None:
    member = Actor(person_id="u1", roles=frozenset({"member"}))
    with pytest.raises(NotPermitted):
        webhooks.add_hook(fresh_store, member, "http://127.0.0.1:9/x", "document.created", SECRET)
    with pytest.raises(InvalidInput) as bad:
        webhooks.add_hook(fresh_store, ADMIN, "ftp://example/x", "document.created", SECRET)
    assert bad.value.code == "webhook.bad_url"
    with pytest.raises(InvalidInput) as bad:
        webhooks.add_hook(fresh_store, ADMIN, "http://127.0.0.1:9/x", "document.deleted", SECRET)
    assert bad.value.params["field"] == "events"
    with pytest.raises(InvalidInput):
        webhooks.add_hook(fresh_store, ADMIN, "http://127.0.0.1:9/x", "document.created", "short")


def test_hooks_hear_nothing_from_before_they_existed(fresh_store: FalkorStore, settings: Settings) -> None:
    audit.record(fresh_store, action="document.upload", target_kind="document", target_id="old")
    time.sleep(0.01)
    webhooks.add_hook(fresh_store, ADMIN, "http://127.0.0.1:9/x", "document.created", SECRET)
    assert webhooks.collect(fresh_store) == 0


def test_cli_add_list_remove_never_shows_the_secret(store: FalkorStore) -> None:
    added = run_cli("webhook", "add", "http://127.0.0.1:9/cli", "--events", "document.created,run.finished",
                    "--secret", SECRET, "--json")
    assert added.returncode == 0, added.stderr
    row = json.loads(added.stdout)
    assert row["url"] == "http://127.0.0.1:9/cli" and row["events"] == ["document.created", "run.finished"]
    listed = run_cli("webhook", "list", "--json")
    assert SECRET not in added.stdout + listed.stdout
    assert row["id"] in {h["id"] for h in json.loads(listed.stdout)}
    bad = run_cli("webhook", "add", "http://127.0.0.1:9/cli", "--events", "nope", "--secret", SECRET)
    assert bad.returncode == 1 and "unknown or missing events: nope" in bad.stderr
    assert run_cli("webhook", "remove", row["id"]).returncode == 0
    assert wait_until(lambda: row["id"] not in run_cli("webhook", "list").stdout)
    assert run_cli("webhook", "remove", row["id"]).returncode == 1


def test_the_beat_runs_the_dispatcher_on_a_real_worker(celery_worker: object, store: FalkorStore) -> None:
    from workers import schedule, tasks
    from workers.celery_app import app as celery

    assert celery.conf.beat_schedule["deliveries"]["task"] == tasks.deliveries.name == "huitong.deliveries"
    assert celery.conf.beat_schedule["watch-folder"]["task"] == tasks.watch_folder.name
    assert schedule.DELIVERIES_EVERY_SECONDS <= 10
    figures = tasks.deliveries.delay().get(timeout=120)
    assert set(figures) == {"queued", "delivered", "pending", "failed"}
    assert tasks.watch_folder.delay().get(timeout=120) == {}  # no watch folder configured: nothing to do
