"""A throwaway OpenLDAP server (Debian's ``slapd``) for the LDAP sign-in and org sync tests.

Its configuration and database live under a temporary directory; it runs in the foreground (``-d 0``) on a
free local port, without the system service. Entries are loaded offline with ``slapadd`` before it starts
and changed online through ldap3 as the directory's root.
"""

from __future__ import annotations

import base64
import hashlib
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import ldap3
from process_support import free_port, stop

SUFFIX = "dc=huitong,dc=test"
ROOT_DN = f"cn=root,{SUFFIX}"
ROOT_PASSWORD = "root-secret-for-tests"
SERVICE_DN = f"cn=huitong,ou=services,{SUFFIX}"
SERVICE_PASSWORD = "service-secret-for-tests"
SLAPD = shutil.which("slapd") or "/usr/sbin/slapd"
SLAPADD = shutil.which("slapadd") or "/usr/sbin/slapadd"

CONFIG = """\
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
include /etc/ldap/schema/nis.schema
pidfile {root}/slapd.pid
modulepath /usr/lib/ldap
moduleload back_mdb
database mdb
suffix "{suffix}"
rootdn "{root_dn}"
rootpw {root_password}
directory {root}/db
maxsize 33554432
access to attrs=userPassword by anonymous auth by self write by * none
access to * by users read by * none
"""


def ssha(password: str) -> str:
    """userPassword as OpenLDAP stores it ({SSHA}: salted SHA-1), not in clear text."""
    salt = os.urandom(8)
    return "{SSHA}" + base64.b64encode(hashlib.sha1(password.encode() + salt).digest() + salt).decode()


def user_dn(uid: str) -> str:
    return f"uid={uid},ou=people,{SUFFIX}"


def group_dn(cn: str) -> str:
    return f"cn={cn},ou=groups,{SUFFIX}"


def _ldif(entries: list[dict[str, object]]) -> str:
    blocks = []
    for entry in entries:
        lines = [f"dn: {entry['dn']}"]
        for name, value in entry.items():
            if name == "dn":
                continue
            for item in value if isinstance(value, list) else [value]:
                text = str(item)
                if text.isascii():
                    lines.append(f"{name}: {text}")
                else:
                    lines.append(f"{name}:: {base64.b64encode(text.encode()).decode()}")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"


def base_entries() -> list[dict[str, object]]:
    return [
        {"dn": SUFFIX, "objectClass": ["dcObject", "organization"], "o": "Huitong test", "dc": "huitong"},
        *({"dn": f"ou={ou},{SUFFIX}", "objectClass": "organizationalUnit", "ou": ou}
          for ou in ("people", "groups", "services")),
        {"dn": SERVICE_DN, "objectClass": ["organizationalRole", "simpleSecurityObject"], "cn": "huitong",
         "userPassword": ssha(SERVICE_PASSWORD)},
    ]


def person_entry(uid: str, password: str, *, name: str, mail: str, title: str = "") -> dict[str, object]:
    entry: dict[str, object] = {"dn": user_dn(uid), "objectClass": "inetOrgPerson", "uid": uid, "cn": name,
                                "sn": name, "mail": mail, "userPassword": ssha(password)}
    if title:
        entry["title"] = title
    return entry


def group_entry(cn: str, members: list[str]) -> dict[str, object]:
    # groupOfNames needs one member at least: the service account keeps an emptied group valid.
    return {"dn": group_dn(cn), "objectClass": "groupOfNames", "cn": cn,
            "member": [user_dn(m) for m in members] or [SERVICE_DN]}


@dataclass
class Slapd:
    url: str
    root: Path
    process: subprocess.Popen[bytes]

    @contextmanager
    def admin(self) -> Iterator[ldap3.Connection]:
        connection = ldap3.Connection(ldap3.Server(self.url), ROOT_DN, ROOT_PASSWORD, raise_exceptions=True)
        connection.bind()
        try:
            yield connection
        finally:
            connection.unbind()

    def add(self, entry: dict[str, object]) -> None:
        attributes = {k: v for k, v in entry.items() if k not in ("dn", "objectClass")}
        with self.admin() as connection:
            connection.add(str(entry["dn"]), entry["objectClass"], attributes)

    def replace(self, dn: str, **attributes: list[str]) -> None:
        with self.admin() as connection:
            connection.modify(dn, {name: [(ldap3.MODIFY_REPLACE, values)] for name, values in attributes.items()})

    def delete(self, dn: str) -> None:
        with self.admin() as connection:
            connection.delete(dn)

    def set_members(self, cn: str, uids: list[str]) -> None:
        self.replace(group_dn(cn), member=[user_dn(u) for u in uids] or [SERVICE_DN])


@contextmanager
def running_slapd(root: Path, entries: list[dict[str, object]]) -> Iterator[Slapd]:
    """Start slapd with ``entries`` (besides the base tree) under ``root``; stop it afterwards."""
    (root / "db").mkdir(parents=True)
    config = root / "slapd.conf"
    config.write_text(CONFIG.format(root=root, suffix=SUFFIX, root_dn=ROOT_DN, root_password=ROOT_PASSWORD))
    (root / "entries.ldif").write_text(_ldif(base_entries() + entries), encoding="utf-8")
    subprocess.run([SLAPADD, "-f", str(config), "-l", str(root / "entries.ldif")], check=True, capture_output=True)
    port = free_port()
    url = f"ldap://127.0.0.1:{port}"
    log = (root / "slapd.log").open("wb")
    process = subprocess.Popen([SLAPD, "-f", str(config), "-h", f"{url}/", "-d", "0"], stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"slapd did not start: {(root / 'slapd.log').read_text()[-2000:]}") from None
                time.sleep(0.05)
        yield Slapd(url, root, process)
    finally:
        stop(process)
        log.close()
