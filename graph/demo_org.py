"""A realistic demo organisation (Chinese company with English-speaking staff), loaded idempotently.

Everything is derived deterministically from fixed tables and a seeded generator, and every
node has an id derived from its natural key, so loading twice changes nothing.
"""

from __future__ import annotations

import random
import secrets
import time
import uuid
from dataclasses import dataclass, field

from graph.passwords import hash_password
from graph.queries import meta, org
from graph.store import GraphStore

NAMESPACE = uuid.UUID("6f1c1e0a-8d3e-4c55-9a51-2f6f0f3b8c11")
DEMO_VERSION = "1"

# code, Chinese name, English name, parent code
DEPARTMENTS: list[tuple[str, str, str, str | None]] = [
    ("HQ", "汇通科技", "Huitong Technology", None),
    ("GMO", "总经办", "General Manager's Office", "HQ"),
    ("FIN", "财务部", "Finance", "HQ"),
    ("FIN-ACC", "会计组", "Accounting", "FIN"),
    ("FIN-TRS", "资金组", "Treasury", "FIN"),
    ("HR", "人力资源部", "Human Resources", "HQ"),
    ("HR-REC", "招聘组", "Recruiting", "HR"),
    ("HR-PAY", "薪酬组", "Compensation & Payroll", "HR"),
    ("MKT", "市场部", "Marketing", "HQ"),
    ("MKT-BRD", "品牌组", "Brand", "MKT"),
    ("MKT-DIG", "数字营销组", "Digital Marketing", "MKT"),
    ("SALES", "销售部", "Sales", "HQ"),
    ("SALES-EAST", "华东销售组", "East China Sales", "SALES"),
    ("SALES-NORTH", "华北销售组", "North China Sales", "SALES"),
    ("SALES-SOUTH", "华南销售组", "South China Sales", "SALES"),
    ("SALES-INTL", "海外销售组", "International Sales", "SALES"),
    ("RND", "研发中心", "R&D Center", "HQ"),
    ("RND-PLT", "平台组", "Platform Team", "RND"),
    ("RND-DATA", "数据组", "Data Team", "RND"),
    ("RND-MOB", "移动组", "Mobile Team", "RND"),
    ("RND-QA", "测试组", "Quality Assurance", "RND"),
    ("LEGAL", "法务部", "Legal", "HQ"),
    ("PROC", "采购部", "Procurement", "HQ"),
    ("IT", "IT部", "IT", "HQ"),
    ("IT-INF", "基础设施组", "Infrastructure", "IT"),
    ("IT-SEC", "信息安全组", "Information Security", "IT"),
]

# code, Chinese name, English name
POSITIONS: list[tuple[str, str, str]] = [
    ("GM", "总经理", "General Manager"),
    ("DEPT-MGR", "部门经理", "Department Manager"),
    ("TEAM-LEAD", "组长", "Team Lead"),
    ("ACCOUNTANT", "会计", "Accountant"),
    ("CASHIER", "出纳", "Cashier"),
    ("BUDGET-OWNER", "预算负责人", "Budget Owner"),
    ("HR-SPEC", "人事专员", "HR Specialist"),
    ("MKT-SPEC", "市场专员", "Marketing Specialist"),
    ("SALES-REP", "销售代表", "Sales Representative"),
    ("ENGINEER", "软件工程师", "Software Engineer"),
    ("QA-ENG", "测试工程师", "QA Engineer"),
    ("COUNSEL", "法务专员", "Legal Counsel"),
    ("BUYER", "采购专员", "Buyer"),
    ("SYSADMIN", "系统管理员", "System Administrator"),
    ("ASSISTANT", "行政助理", "Administrative Assistant"),
]

# The usual position of an ordinary member, by top-level department.
STAFF_POSITION: dict[str, str] = {
    "GMO": "ASSISTANT", "FIN": "ACCOUNTANT", "HR": "HR-SPEC", "MKT": "MKT-SPEC", "SALES": "SALES-REP",
    "RND": "ENGINEER", "LEGAL": "COUNSEL", "PROC": "BUYER", "IT": "SYSADMIN",
}

# code, Chinese name, English name, departments it draws members from
PROJECTS: list[tuple[str, str, str, tuple[str, ...]]] = [
    ("ERP-2026", "ERP 系统升级", "ERP upgrade", ("FIN", "IT", "PROC", "RND")),
    ("EAST-CHANNEL", "华东渠道拓展", "East China channel expansion", ("SALES-EAST", "MKT", "LEGAL")),
    ("DATA-PLATFORM", "数据中台建设", "Data platform", ("RND-DATA", "IT", "FIN")),
    ("BRAND-REFRESH", "品牌焕新", "Brand refresh", ("MKT", "SALES")),
    ("AUDIT-2026", "2026 合规审计", "2026 compliance audit", ("LEGAL", "FIN", "HR")),
    ("MOBILE-3", "移动 App 3.0", "Mobile app 3.0", ("RND-MOB", "RND-QA", "MKT-DIG")),
]

SURNAMES = [("王", "wang"), ("李", "li"), ("张", "zhang"), ("刘", "liu"), ("陈", "chen"), ("杨", "yang"),
            ("黄", "huang"), ("赵", "zhao"), ("吴", "wu"), ("周", "zhou"), ("徐", "xu"), ("孙", "sun"),
            ("马", "ma"), ("朱", "zhu"), ("胡", "hu"), ("郭", "guo"), ("何", "he"), ("林", "lin"),
            ("罗", "luo"), ("高", "gao"), ("郑", "zheng"), ("梁", "liang"), ("谢", "xie"), ("宋", "song")]
GIVEN = [("伟", "wei"), ("芳", "fang"), ("娜", "na"), ("敏", "min"), ("静", "jing"), ("丽", "li"),
         ("强", "qiang"), ("磊", "lei"), ("军", "jun"), ("洋", "yang"), ("勇", "yong"), ("艳", "yan"),
         ("杰", "jie"), ("涛", "tao"), ("明", "ming"), ("超", "chao"), ("秀英", "xiuying"), ("华", "hua"),
         ("慧", "hui"), ("建国", "jianguo"), ("晓东", "xiaodong"), ("雪", "xue"), ("婷", "ting"),
         ("宇", "yu"), ("浩然", "haoran"), ("思琪", "siqi"), ("子涵", "zihan"), ("俊杰", "junjie")]
ENGLISH_FIRST = ["James", "Emma", "Oliver", "Sophia", "Liam", "Mia", "Noah", "Ava", "Lucas", "Grace",
                 "Daniel", "Chloe", "Henry", "Emily", "Jack", "Hannah", "Samuel", "Zoe", "David", "Laura"]
ENGLISH_LAST = ["Smith", "Brown", "Taylor", "Wilson", "Clarke", "Walker", "Wright", "Green", "Hall", "Baker",
                "Turner", "Hughes", "Evans", "Murphy", "Schmidt", "Martin"]

PEOPLE_PER_TEAM = 8
ENGLISH_SHARE = 0.2


def node_id(kind: str, key: str) -> str:
    """Stable id of a demo node from its natural key."""
    return str(uuid.uuid5(NAMESPACE, f"{kind}:{key}"))


@dataclass
class DemoOrg:
    departments: list[dict[str, object]] = field(default_factory=list)
    parents: list[dict[str, object]] = field(default_factory=list)
    positions: list[dict[str, object]] = field(default_factory=list)
    projects: list[dict[str, object]] = field(default_factory=list)
    people: list[dict[str, object]] = field(default_factory=list)
    memberships: list[dict[str, object]] = field(default_factory=list)
    project_members: list[dict[str, object]] = field(default_factory=list)
    holds: list[dict[str, object]] = field(default_factory=list)
    heads: list[dict[str, object]] = field(default_factory=list)
    reports_to: list[dict[str, object]] = field(default_factory=list)
    roles: list[dict[str, object]] = field(default_factory=list)


@dataclass(frozen=True)
class DemoResult:
    created: bool
    people: int
    departments: int
    admin_username: str
    admin_password: str | None  # only when generated by this run


def _top_level(code: str) -> str:
    parents = {c: p for c, _, _, p in DEPARTMENTS}
    while parents.get(code) not in (None, "HQ"):
        code = parents[code]  # type: ignore[assignment]
    return code


def build_org(seed: int = 7) -> DemoOrg:
    """The demo organisation as rows ready for the org statements."""
    rng = random.Random(seed)
    org_rows = DemoOrg()
    now = int(time.time() * 1000)
    children: dict[str, list[str]] = {}
    for code, name, name_en, parent in DEPARTMENTS:
        org_rows.departments.append({"id": node_id("dept", code), "code": code, "name": name, "name_en": name_en})
        if parent:
            children.setdefault(parent, []).append(code)
            org_rows.parents.append({"id": node_id("dept", code), "parent_id": node_id("dept", parent)})
    for code, name, name_en in POSITIONS:
        org_rows.positions.append({"id": node_id("position", code), "code": code, "name": name, "name_en": name_en})

    usernames: set[str] = {"admin"}
    members_by_dept: dict[str, list[str]] = {}
    head_of: dict[str, str] = {}

    def new_person(dept: str, position: str) -> str:
        if rng.random() < ENGLISH_SHARE:
            first, last = rng.choice(ENGLISH_FIRST), rng.choice(ENGLISH_LAST)
            name, base = f"{first} {last}", f"{first}.{last}".lower()
        else:
            (surname, s_py), (given, g_py) = rng.choice(SURNAMES), rng.choice(GIVEN)
            name, base = surname + given, f"{g_py}.{s_py}"
        username, n = base, 1
        while username in usernames:
            n += 1
            username = f"{base}{n}"
        usernames.add(username)
        person_id = node_id("person", username)
        org_rows.people.append({"id": person_id, "username": username, "name": name,
                                "email": f"{username}@huitong.example", "now": now, "password_hash": None})
        org_rows.memberships.append({"person_id": person_id, "department_id": node_id("dept", dept)})
        org_rows.holds.append({"person_id": person_id, "position_id": node_id("position", position)})
        org_rows.roles.append({"person_id": person_id, "role": "member"})
        members_by_dept.setdefault(dept, []).append(person_id)
        return person_id

    for code, _, _, parent in DEPARTMENTS:
        if parent is None:
            continue
        top = _top_level(code)
        is_team = code not in children and parent != "HQ"
        head_position = "TEAM-LEAD" if parent != "HQ" else ("GM" if code == "GMO" else "DEPT-MGR")
        head = new_person(code, head_position)
        head_of[code] = head
        org_rows.heads.append({"person_id": head, "department_id": node_id("dept", code)})
        org_rows.roles.append({"person_id": head, "role": "manager"})
        staff = PEOPLE_PER_TEAM if is_team or code not in children else 2
        for _ in range(staff):
            new_person(code, STAFF_POSITION[top])
    head_of["HQ"] = head_of["GMO"]
    org_rows.heads.append({"person_id": head_of["GMO"], "department_id": node_id("dept", "HQ")})

    # Budget owners: one per top-level department, picked among its staff.
    for code, _, _, parent in DEPARTMENTS:
        if parent == "HQ" and code != "GMO":
            owner = rng.choice(members_by_dept[code][:3] or [head_of[code]])
            org_rows.holds.append({"person_id": owner, "position_id": node_id("position", "BUDGET-OWNER")})

    parent_of = {c: p for c, _, _, p in DEPARTMENTS}
    for dept, people in members_by_dept.items():
        for person in people:
            manager = head_of[dept] if person != head_of[dept] else head_of.get(parent_of[dept] or "")
            if manager and manager != person:
                org_rows.reports_to.append({"person_id": person, "manager_id": manager})

    for code, name, name_en, sources in PROJECTS:
        project_id = node_id("project", code)
        org_rows.projects.append({"id": project_id, "code": code, "name": name, "name_en": name_en})
        for source in sources:
            pool = [p for d, people in members_by_dept.items() if d == source or d.startswith(source + "-")
                    for p in people]
            for person in rng.sample(pool, min(3, len(pool))):
                org_rows.project_members.append({"person_id": person, "project_id": project_id})
    return org_rows


def load_demo_org(store: GraphStore, admin_password: str = "", people_password: str = "") -> DemoResult:
    """Load the demo organisation and the ``admin`` account; loading again changes nothing.

    ``people_password`` lets every demo person sign in (only those without a password get it).
    """
    rows = build_org()
    already = bool(store.run(meta.GET_META, {"key": "demo_org"}))
    steps = [
        (org.UPSERT_DEPARTMENTS, rows.departments), (org.LINK_DEPARTMENT_PARENTS, rows.parents),
        (org.UPSERT_POSITIONS, rows.positions), (org.UPSERT_PROJECTS, rows.projects),
        (org.UPSERT_PEOPLE, rows.people), (org.LINK_MEMBERSHIPS, rows.memberships),
        (org.LINK_PROJECT_MEMBERS, rows.project_members), (org.LINK_POSITIONS, rows.holds),
        (org.LINK_HEADS, rows.heads), (org.LINK_REPORTS_TO, rows.reports_to), (org.GRANT_ROLES, rows.roles),
    ]
    for statement, batch in steps:
        store.run(statement, {"rows": batch})
    if people_password:
        # One hash for all: argon2 is deliberately slow, and the password is the same anyway.
        store.run(org.SET_MISSING_PASSWORD_HASHES,
                  {"ids": [p["id"] for p in rows.people], "password_hash": hash_password(people_password)})
    generated = _ensure_admin(store, admin_password)
    store.run(meta.SET_META, {"key": "demo_org", "value": DEMO_VERSION})
    return DemoResult(
        created=not already, people=len(rows.people) + 1, departments=len(rows.departments),
        admin_username="admin", admin_password=generated,
    )


def _ensure_admin(store: GraphStore, password: str) -> str | None:
    """Create the admin account once. Returns the password when this call generated it."""
    existing = store.run(org.PERSON_BY_USERNAME, {"username": "admin"})
    generated = None
    if existing and existing[0]["password_hash"] and not password:
        return None
    if not password:
        password = generated = secrets.token_urlsafe(12)
    admin_id = node_id("person", "admin")
    store.run(org.UPSERT_PEOPLE, {"rows": [{
        "id": admin_id, "username": "admin", "name": "系统管理员 Administrator", "email": "admin@huitong.example",
        "now": int(time.time() * 1000), "password_hash": None,
    }]})
    store.run(org.SET_PASSWORD_HASH, {"person_id": admin_id, "password_hash": hash_password(password)})
    store.run(org.LINK_MEMBERSHIPS, {"rows": [{"person_id": admin_id, "department_id": node_id("dept", "IT")}]})
    store.run(org.GRANT_ROLES, {"rows": [{"person_id": admin_id, "role": "admin"},
                                         {"person_id": admin_id, "role": "member"}]})
    return generated
