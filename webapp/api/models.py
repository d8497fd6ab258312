"""Shapes of the API's inputs and answers (pydantic); the OpenAPI document is generated from them.

Answer models list the fields clients rely on; objects may carry more (``additionalProperties`` stays open),
so a new column never breaks a client or the schema check.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Text = str | None


class Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class Problem(Open):
    type: str
    title: str
    status: int
    detail: str
    code: str
    params: dict[str, str]
    instance: str


class Paging(BaseModel):
    page: int = Field(1, ge=1, le=100_000)
    per_page: int = Field(20, ge=1, le=200)


class DocumentQuery(Paging):
    scope: Literal["all", "mine", "department", "recent"] = "all"
    domain: str | None = Field(None, max_length=100)
    data_type: str | None = Field(None, max_length=100)
    access: str | None = Field(None, max_length=50)
    kind: str | None = Field(None, max_length=50)
    status: str | None = Field(None, max_length=50)
    q: str | None = Field(None, max_length=200, description="Part of the title.")
    department_id: str | None = Field(None, max_length=100)
    sort: Literal["updated", "oldest", "created", "title", "size"] = "updated"


class DocumentItem(Open):
    id: str
    title: Text = None


class DocumentPage(BaseModel):
    items: list[DocumentItem]
    total: int
    page: int
    per_page: int
    next: Text


class Document(Open):
    id: str
    title: Text = None
    can_edit: bool
    access_reason: str
    current_version_id: Text = None


class UploadResult(Open):
    filename: str
    ok: bool
    document_id: str | None = None
    version_id: str | None = None
    code: str | None = None


class UploadResults(BaseModel):
    results: list[UploadResult]
    stored: int
    failed: int


class ShareIn(BaseModel):
    share: str = Field(..., min_length=1, max_length=300,
                       description="kind:code[:read|edit], e.g. department:FIN or person:li.na:edit")


class Shared(Open):
    kind: str
    ref: str
    access: str


class ClassifyIn(BaseModel):
    revision: int = Field(..., ge=0, le=2**31, description="The document's revision as last read (conflict check).")
    domain: str | None = Field(None, max_length=100)
    access: str | None = Field(None, max_length=50)
    title: str | None = Field(None, min_length=1, max_length=300)


class Revision(BaseModel):
    revision: int


class SearchResults(Open):
    query: str
    page: int
    per_page: int
    total: int
    pages: int
    results: list[dict[str, Any]]
    facets: dict[str, list[dict[str, Any]]]
    next: Text


class DecisionQuery(Paging):
    q: str | None = Field(None, max_length=200)


class DecisionItem(Open):
    id: str
    title: Text = None


class DecisionPage(BaseModel):
    items: list[DecisionItem]
    page: int
    per_page: int
    next: Text


class DecisionIn(BaseModel):
    title: str = Field(..., min_length=1, max_length=300)
    text: str = Field("", max_length=20_000)
    decided_on: str | None = Field(None, pattern=r"^\d{4}-\d{2}-\d{2}$")
    affects: list[str] = Field(default_factory=list, max_length=50, description="Document ids.")
    based_on: list[str] = Field(default_factory=list, max_length=50, description="Version ids.")


class Workflow(Open):
    key: str


class Workflows(BaseModel):
    items: list[Workflow]


class RunIn(BaseModel):
    title: str = Field("", max_length=300)
    values: dict[str, Any] = Field(default_factory=dict, description="The start form's fields by name.")


class RunStarted(BaseModel):
    run_id: str


class TaskQuery(Paging):
    q: str | None = Field(None, max_length=200)


class Task(Open):
    id: str


class TaskPage(BaseModel):
    items: list[Task]
    page: int
    per_page: int
    next: Text


class TaskAction(BaseModel):
    action: Literal["approve", "reject", "return", "claim", "request_info", "provide_info", "urge"]
    comment: str = Field("", max_length=5000)
    values: dict[str, Any] = Field(default_factory=dict, description="Fields of the step (approve).")
    to_step: str | None = Field(None, max_length=100, description="Step to return to (return).")


class AccessRequestIn(BaseModel):
    note: str = Field("", max_length=500, description="Why the caller asks (shown to the owner).")


class AccessRequested(BaseModel):
    requested: bool


class Acted(BaseModel):
    run_id: str
    task_id: str
    action: str


class NotificationQuery(Paging):
    unread: bool = False


class Notification(Open):
    id: str


class NotificationPage(BaseModel):
    items: list[Notification]
    page: int
    per_page: int
    next: Text


class Marked(BaseModel):
    read: bool


class Department(Open):
    id: str
    name: Text = None


class Departments(BaseModel):
    items: list[Department]


class PersonItem(Open):
    id: str
    username: Text = None
    name: Text = None


class PeoplePage(BaseModel):
    items: list[PersonItem]
    total: int
    page: int
    per_page: int
    next: Text
