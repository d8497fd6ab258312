"""Why a person may or may not open a document, as one sentence in Chinese or English."""

from __future__ import annotations

from typing import TYPE_CHECKING

from graph.classification import (
    effective_level,
)

if TYPE_CHECKING:
    from graph.permissions.policy import Access

_KIND_WORDS = {
    "zh": {"department": "部门", "project": "项目组", "position": "岗位", "person": "个人"},
    "en": {"department": "departments", "project": "projects", "position": "positions", "person": "individual people"},
}


_FIXED: dict[str, tuple[str, str]] = {
    "owner": ("您是该文档的所有者。", "You own this document."),
    "person": ("该文档已直接共享给您。", "This document is shared with you directly."),
    "public": ("该文档为公开文档，所有在职人员均可阅读。",
               "This document is public: every active member of the organisation can read it."),
    "admin": ("您是系统管理员，可以访问所有文档。",
              "You are an administrator: administrators can open every document."),
    "unknown_person": ("该用户不存在。", "There is no such person."),
    "unknown_document": ("该文档不存在。", "There is no such document."),
    "inactive": ("您的账号已停用，无法访问任何文档。", "Your account is deactivated, so you cannot open any document."),
    "read_only": ("您可以阅读该文档，但没有任何共享授予您编辑权限。",
                  "You can read this document, but no share gives you edit access."),
    "no_path": ("该文档未共享给您本人，也未共享给您所在的部门、项目组或岗位。",
                "This document is not shared with you, nor with any of your departments, projects or positions."),
}


def explain(access: Access, lang: str = "zh") -> str:
    """One sentence, in ``zh`` or ``en``, saying why the access was granted or refused."""
    lang = "en" if lang == "en" else "zh"
    zh = lang == "zh"
    kind = access.reason_kind
    if kind in _FIXED:
        return _FIXED[kind][0 if zh else 1]
    middle = [s.display(lang) for s in access.path[1:-1]]  # between the person and the document
    target = middle[-1] if middle else ""
    if kind == "department":
        return _department_sentence(middle, lang)
    if kind == "project":
        return (f"您是项目组“{target}”的成员，该文档已共享给该项目组。" if zh
                else f"You are a member of the project {target}, which this document is shared with.")
    if kind == "position":
        return (f"您担任岗位“{target}”，该文档已共享给该岗位。" if zh
                else f"You hold the position {target}, which this document is shared with.")
    if kind == "run":
        return (f"该文档是流程“{target}”的附件，您参与了该流程。" if zh
                else f"This document is attached to the workflow run {target}, which you take part in.")
    if kind == "level_blocked":
        level = effective_level(access.level).label(lang)
        words = _KIND_WORDS[lang][_blocked_kind(access)]
        return (f"该文档密级为“{level}”，此密级下共享给{words}的路径无效，因此“{target}”不能为您提供访问权限。" if zh
                else f"This document is {level}: at that level shares with {words} do not count, "
                     f"so {target} does not give you access.")
    if kind == "inactive_path":
        dead = next((s.display(lang) for s in access.path[1:-1] if s.active is not True), target)
        return (f"“{dead}”已停用，经由它的共享不再对您生效。" if zh
                else f"{dead} is deactivated, so the share through it no longer reaches you.")
    raise ValueError(f"no wording for reason {kind!r}")


def _department_sentence(chain: list[str], lang: str) -> str:
    first, target = chain[0], chain[-1]
    if lang == "en":
        parts = "".join(f", part of {name}" for name in chain[1:])
        return f"You are in {first}{parts}, which this document is shared with."
    links = "".join(
        f"，{'它' if i == 0 else chain[i]}隶属于{chain[i + 1]}" for i in range(len(chain) - 1)
    )
    return f"您属于{first}{links}，该文档已共享给{target}。"


def _blocked_kind(access: Access) -> str:
    labels = [s.label for s in access.path[1:-1]]
    if not labels:
        return "person"
    return labels[-1].lower()
