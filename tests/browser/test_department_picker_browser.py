"""The org-admin department tree picker in zh and en, at 1440 and 390 px, used with the keyboard only:
browse the tree (ArrowDown to the first department, ArrowLeft closes its branch, ArrowRight opens it and then
steps into it, Escape closes the tree), type to filter, and a department's own descendant offered but greyed
out; posting it anyway is refused beside the field in the reader's language; picking another department
with Enter shows its path, and the move goes through the impact preview. axe finds nothing serious or
critical with the tree open, and nothing overflows at 390 px."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from graph import org
from graph.falkordb_backend import FalkorStore

pytestmark = pytest.mark.browser

CASES = [("zh-CN", 1440), ("zh-CN", 390), ("en-US", 1440), ("en-US", 390)]
REFUSED = {"zh-CN": "该部门是它的下级部门", "en-US": "that department is inside it"}


def _branch(store: FalkorStore) -> dict[str, str]:
    """TOP > MID > LOW, and a separate OTHER: fresh codes, so each case moves its own departments."""
    tag = uuid.uuid4().hex[:6].upper()
    codes = {k: f"PK{tag}-{k}" for k in ("TOP", "MID", "LOW", "OTHER")}
    ids = {"TOP": org.create(store, "department", {"code": codes["TOP"], "name": f"树顶{tag}",
                                                   "name_en": f"Top {tag}"})}
    ids["MID"] = org.create(store, "department", {"code": codes["MID"], "name": f"树中{tag}", "name_en": f"Mid {tag}",
                                                  "parent_id": ids["TOP"]})
    ids["LOW"] = org.create(store, "department", {"code": codes["LOW"], "name": f"树底{tag}", "name_en": f"Low {tag}",
                                                  "parent_id": ids["MID"]})
    ids["OTHER"] = org.create(store, "department", {"code": codes["OTHER"], "name": f"别处{tag}",
                                                    "name_en": f"Elsewhere {tag}"})
    return {**{f"{k}_code": v for k, v in codes.items()}, **ids}


@contextmanager
def _as_admin(browser, url: str, locale: str, width: int) -> Iterator[Any]:  # type: ignore[no-untyped-def]
    """A page signed in as the administrator, in ``locale`` at ``width`` px (closed afterwards)."""
    context = browser.new_context(locale=locale, viewport={"width": width, "height": 900}, bypass_csp=True)
    page = context.new_page()
    page.set_default_timeout(30_000)
    try:
        page.goto(url + "/login")
        page.fill("#login", "admin")
        page.fill("#password", os.environ["HUITONG_ADMIN_PASSWORD"])
        page.click("form.form-stack button[type=submit]")
        page.wait_for_url(url + "/")
        yield page
    finally:
        context.close()


def _post_greyed(page, field: str, code: str, said: str) -> None:  # type: ignore[no-untyped-def]
    """Type the code of a department offered greyed out: the arrows pass it by; Enter, with nothing picked, posts
    the form, which comes back refused beside the field (``said``), the code kept."""
    from playwright.sync_api import expect

    tree = page.locator(f"#{field}-list")
    page.keyboard.type(code)
    expect(tree.locator('[role="group"]')).to_have_count(0)  # the matches, flat, have replaced the tree
    greyed = tree.locator(f'[data-value="{code}"]')
    expect(greyed).to_have_attribute("aria-disabled", "true")
    page.keyboard.press("ArrowDown")
    expect(greyed).to_have_attribute("aria-selected", "false")
    page.keyboard.press("Enter")
    expect(page.locator(f"#{field}-error")).to_contain_text(said)
    expect(page.locator(f"#{field}")).to_have_attribute("aria-invalid", "true")
    expect(page.locator(f"#{field}")).to_have_value(code)


@pytest.mark.parametrize(("locale", "width"), CASES)
def test_tree_picker_by_keyboard(browser, live_server, demo: FalkorStore, locale: str, width: int) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect
    from test_ui_browser import AXE, SERIOUS, WIDEST

    url, made = live_server.url, _branch(demo)
    with _as_admin(browser, url, locale, width) as page:
        edit = f"{url}/admin/org/departments/{made['MID']}"
        page.goto(edit)
        field, tree = page.locator("#parent"), page.locator("#parent-list")
        expect(field).to_have_value(made["TOP_code"])
        expect(field).to_have_attribute("aria-haspopup", "tree")

        # Browse: clear the field (the whole tree), step to the first department, close and open its branch.
        field.focus()
        page.keyboard.press("Control+A")
        page.keyboard.press("Backspace")
        expect(tree).to_be_visible()
        expect(tree.locator('[role="treeitem"][aria-level="2"]').first).to_be_visible()
        page.keyboard.press("ArrowDown")
        first = tree.locator('[role="treeitem"][aria-level="1"]').first
        expect(first).to_have_attribute("aria-selected", "true")
        expect(field).to_have_attribute("aria-activedescendant", first.get_attribute("id") or "")
        expect(first).to_have_attribute("aria-expanded", "true")
        page.keyboard.press("ArrowLeft")
        expect(first).to_have_attribute("aria-expanded", "false")
        expect(first.locator('[role="group"]').first).to_be_hidden()
        page.keyboard.press("ArrowRight")
        expect(first).to_have_attribute("aria-expanded", "true")
        page.keyboard.press("ArrowRight")  # into the branch: its first department
        expect(first.locator('[role="treeitem"]').first).to_have_attribute("aria-selected", "true")
        page.keyboard.press("ArrowLeft")  # back to the parent
        expect(first).to_have_attribute("aria-selected", "true")

        # axe with the tree open; nothing wider than the phone.
        page.add_script_tag(path=str(AXE))
        assert page.evaluate(SERIOUS) == [], locale
        scroll, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert scroll <= inner, page.evaluate(WIDEST)
        page.keyboard.press("Escape")
        expect(tree).to_be_hidden()
        expect(field).to_have_attribute("aria-expanded", "false")

        # Its own descendant is offered greyed out: the arrows pass it by; posting it is refused by the field.
        _post_greyed(page, "parent", made["LOW_code"], REFUSED[locale])
        assert org.department_tree(demo)[1][made["MID"]].row["parent_code"] == made["TOP_code"]

        # Type to filter, pick with Enter: the path is shown; the preview, then the move.
        field = page.locator("#parent")
        field.focus()
        page.keyboard.press("Control+A")
        page.keyboard.type(made["OTHER_code"].lower())
        other = page.locator(f'#parent-list [data-value="{made["OTHER_code"]}"]')
        expect(page.locator(f'#parent-list [data-value="{made["LOW_code"]}"]')).to_have_count(0)
        expect(other).to_be_visible()
        page.keyboard.press("ArrowDown")
        expect(other).to_have_attribute("aria-selected", "true")
        page.keyboard.press("Enter")
        expect(field).to_have_value(made["OTHER_code"])
        expect(page.locator("#parent-chosen")).to_contain_text(made["OTHER_code"])
        page.keyboard.press("Enter")  # the list is closed: Enter sends the form to the impact preview
        apply = page.locator("form[action$='/move'] button[type=submit]")
        expect(apply).to_be_visible()
        apply.focus()
        page.keyboard.press("Enter")
        page.wait_for_url(edit)
        assert org.department_tree(demo)[1][made["MID"]].row["parent_code"] == made["OTHER_code"]
        expect(page.locator("#parent")).to_have_value(made["OTHER_code"])


MEMBERS_REFUSED = {"zh-CN": "不能把成员移到正在停用的部门",
                   "en-US": "Members cannot be moved to the department being deactivated"}


@pytest.mark.parametrize(("locale", "width"), CASES)
def test_deactivation_picks_the_members_department_by_keyboard(browser, live_server, demo: FalkorStore,  # type: ignore[no-untyped-def]
                                                               locale: str, width: int) -> None:
    """Deactivating a department with a member: the tree picker offers the department itself greyed out (posting
    it is refused beside the field), then another department is picked with the keyboard; the impact preview,
    and the change moves the member and closes the department."""
    from playwright.sync_api import expect
    from test_ui_browser import AXE, SERIOUS, WIDEST

    url, made = live_server.url, _branch(demo)
    tag = made["LOW_code"].lower().replace("-", "")
    member = org.create_person(demo, {"username": f"m{tag}", "name": f"成员{tag[-4:]}", "email": f"{tag}@example.com"})
    org.add_membership(demo, member, "department", made["LOW_code"])
    with _as_admin(browser, url, locale, width) as page:
        edit = f"{url}/admin/org/departments/{made['LOW']}"
        page.goto(edit)
        field, tree = page.locator("#move_members"), page.locator("#move_members-list")
        expect(field).to_have_attribute("aria-haspopup", "tree")
        field.focus()
        expect(tree).to_be_visible()  # focus browses the whole tree
        page.add_script_tag(path=str(AXE))
        assert page.evaluate(SERIOUS) == [], locale
        scroll, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert scroll <= inner, page.evaluate(WIDEST)

        # The department itself is offered greyed out: the arrows pass it by; posting it is refused by the field.
        _post_greyed(page, "move_members", made["LOW_code"], MEMBERS_REFUSED[locale])

        # Another department, typed and picked with Enter; Enter again sends the form to the impact preview.
        field = page.locator("#move_members")
        field.focus()
        page.keyboard.press("Control+A")
        page.keyboard.type(made["OTHER_code"].lower())
        other = page.locator(f'#move_members-list [data-value="{made["OTHER_code"]}"]')
        expect(other).to_be_visible()
        page.keyboard.press("ArrowDown")
        expect(other).to_have_attribute("aria-selected", "true")
        page.keyboard.press("Enter")
        expect(field).to_have_value(made["OTHER_code"])
        page.keyboard.press("Enter")
        apply = page.locator("form[action$='/status'] button[type=submit]")
        expect(apply).to_be_visible()
        apply.focus()
        page.keyboard.press("Enter")
        page.wait_for_url(edit)
        assert org.get(demo, "department", made["LOW"])["active"] is False
        assert [m["code"] for m in org.memberships(demo, member) if m.get("kind") == "department"] == \
            [made["OTHER_code"]]
