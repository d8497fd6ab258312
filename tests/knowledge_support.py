"""Helpers of the decision and duplicate tests: documents with versions on a real graph, actors of demo people."""

from __future__ import annotations

import hashlib
import uuid

from graph import accounts
from graph import documents as docs
from graph import permissions as perm
from graph.actor import Actor
from graph.classification import ShareKind
from graph.org import by_code
from graph.store import GraphStore


def actor(store: GraphStore, person_id: str) -> Actor:
    person = accounts.person_by_id(store, person_id)
    assert person is not None
    return Actor(person.id, person.username, person.name, person.roles, door="cli")


def make_document(store: GraphStore, owner_id: str, title: str, *, access: str = "internal",
                  share_with: str | None = None, content: bytes | None = None) -> tuple[str, str]:
    """A document of ``owner_id`` (shared with the department ``share_with``); returns (document, version) ids."""
    document_id, version_id = uuid.uuid4().hex, uuid.uuid4().hex
    data = content if content is not None else title.encode()
    docs.create_document(store, docs.NewDocument(
        document_id=document_id, version_id=version_id, owner_id=owner_id, title=title, title_source="user",
        kind="txt", mime="text/plain", domain="general", data_type="unstructured", access=access, size=len(data),
        sha256=hashlib.sha256(data).hexdigest(), filename=f"{title}.txt"))
    if share_with:
        department = by_code(store, "department", share_with)
        assert department is not None
        perm.share(store, owner_id, document_id, ShareKind.DEPARTMENT, department["id"])
    return document_id, version_id


def new_version(store: GraphStore, owner_id: str, document_id: str, content: bytes) -> str:
    version_id = uuid.uuid4().hex
    docs.add_version(store, document_id=document_id, version_id=version_id, author_id=owner_id,
                     sha256=hashlib.sha256(content).hexdigest(), size=len(content), filename="v.txt", kind="txt",
                     mime="text/plain", data_type="unstructured")
    return version_id
