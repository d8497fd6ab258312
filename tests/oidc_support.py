"""A real OpenID Connect provider (npm ``oidc-provider``, tests/fixtures/oidc_provider.mjs) for the SSO tests,
and a browser stand-in (``requests``) that goes through its login and consent pages."""

from __future__ import annotations

import html
import json
import re
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin

import requests
from process_support import free_port, stop

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "tests" / "fixtures" / "oidc_provider.mjs"
CLIENT_ID = "huitong-tests"
CLIENT_SECRET = "client-secret-for-tests"
CALLBACK = "http://localhost/sso/oidc/callback"  # where Flask's test client answers

_FORM = re.compile(r"<form[^>]*action=\"([^\"]+)\"[^>]*>(.*?)</form>", re.S | re.I)
_INPUT = re.compile(r"<input[^>]*>", re.I)
_ATTR = re.compile(r"(\w+)=\"([^\"]*)\"")


@dataclass
class Provider:
    issuer: str
    process: subprocess.Popen[bytes]


@contextmanager
def running_provider(root: Path, accounts: dict[str, dict[str, str]]) -> Iterator[Provider]:
    config = root / "provider.json"
    config.write_text(json.dumps({"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
                                  "redirect_uris": [CALLBACK], "accounts": accounts}))
    port = free_port()
    log = (root / "provider.log").open("wb")
    process = subprocess.Popen(["node", str(SCRIPT), str(port), str(config)], cwd=ROOT, stdout=log, stderr=log)
    issuer = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if requests.get(f"{issuer}/.well-known/openid-configuration", timeout=1).ok:
                    break
            except requests.RequestException:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"oidc-provider did not start: {(root / 'provider.log').read_text()[-2000:]}")
            time.sleep(0.1)
        yield Provider(issuer, process)
    finally:
        stop(process)
        log.close()


def _form(page: str) -> tuple[str, dict[str, str]]:
    found = _FORM.search(page)
    assert found, f"no form on the provider's page: {page[:500]}"
    fields: dict[str, str] = {}
    for tag in _INPUT.findall(found.group(2)):
        attributes = dict(_ATTR.findall(tag))
        if "name" in attributes:
            fields[attributes["name"]] = html.unescape(attributes.get("value", ""))
    return html.unescape(found.group(1)), fields


def provider_login(authorize_url: str, login: str, *, password: str = "any") -> str:
    """Play the browser at the provider: sign in as ``login``, consent, and return the callback URL (with the
    code and state) the provider sends the browser back to."""
    browser = requests.Session()
    url = authorize_url
    for _ in range(12):
        response = browser.get(url, allow_redirects=False, timeout=10)
        while response.status_code in (302, 303):
            url = urljoin(url, response.headers["Location"])
            if url.startswith(CALLBACK):
                return url
            response = browser.get(url, allow_redirects=False, timeout=10)
        assert response.status_code == 200, f"{response.status_code} at {url}: {response.text[:500]}"
        action, fields = _form(response.text)
        if "login" in fields or "password" in fields:
            fields.update(login=login, password=password)
        response = browser.post(urljoin(url, action), data=fields, allow_redirects=False, timeout=10)
        assert response.status_code in (302, 303), f"{response.status_code}: {response.text[:500]}"
        url = urljoin(url, response.headers["Location"])
        if url.startswith(CALLBACK):
            return url
    raise AssertionError("the provider never sent the browser back")
