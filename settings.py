"""The one settings object of Huitong, read from ``HUITONG_*`` environment variables.

Every process (web, worker, CLI, tests) builds its configuration here and nowhere else.
Invalid values fail at start with a message naming the variable.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ENV_PREFIX = "HUITONG_"


class SettingsError(RuntimeError):
    """Raised when the environment holds an invalid configuration value."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore", frozen=True)

    data_dir: Path = Field(Path("./data"), description="Where the graph, blobs, indexes and logs live.")
    host: str = Field("127.0.0.1", description="Address the web server binds to.")
    port: int = Field(8000, ge=1, le=65535, description="Port of the web server.")
    graph: Literal["embedded", "neo4j"] = Field(
        "embedded", description="Graph engine: bundled FalkorDB (`embedded`) or a Neo4j 5 server (`neo4j`)."
    )
    graph_name: str = Field("huitong", pattern=r"^[A-Za-z0-9_]+$", description="Name of the graph (FalkorDB key).")
    neo4j_uri: str = Field(
        "bolt://localhost:7687", description="Neo4j URI (`bolt://`, `neo4j://`, `+s`/`+ssc` variants)."
    )
    neo4j_user: str = Field("neo4j", description="Neo4j user name.")
    neo4j_password: SecretStr = Field(SecretStr(""), description="Neo4j password.")
    neo4j_database: str = Field("neo4j", description="Neo4j database name.")
    broker_url: str = Field(
        "", description="Celery broker/result URL. Empty: the bundled server's unix socket (embedded mode)."
    )
    secret_key: SecretStr = Field(
        SecretStr(""), description="Flask secret key. Empty: generated once and kept in the data directory."
    )
    embedding_model: str = Field(
        "multilingual-e5-small",
        description=(
            "sentence-transformers model: `multilingual-e5-small` (Chinese and English, bundled, offline), "
            "`all-MiniLM-L6-v2` (English only, bundled) or a local model folder. Changing it re-embeds every "
            "chunk in the background; search answers from the previous model's vectors until that is done."
        ),
    )
    query_engine: Literal["onnx", "torch", "onnx-int8", "onnx-ffn-int8"] = Field(
        "onnx",
        description="How search queries are embedded: `onnx` (ONNX Runtime, fp32, attention fused: the "
        "same vectors as torch, several times less time per query), `torch` (the path documents use), "
        "`onnx-int8` (int8 weights: faster still, but dense-only nDCG@10 0.03 lower) or `onnx-ffn-int8` (int8 in the "
        "feed-forward layers only). The ONNX copies are "
        "exported next to the converted model by `scripts/setup.sh`.",
    )
    query_threads: int = Field(
        0, ge=0, le=64,
        description="ONNX Runtime threads that embed one search query (they sleep, not spin, when idle, so a busy "
        "machine does not starve them). 0: the machine's cores, at most 4.",
    )
    model_dir: Path = Field(
        Path(""),
        description="Where the bundled multilingual model is converted to (once, ~470 MB). "
        "Empty: `~/.cache/huitong/models` (`$XDG_CACHE_HOME/huitong/models`).",
    )
    demo_password: SecretStr = Field(
        SecretStr(""),
        description="Password given by `huitong demo` to every demo person except admin. Empty: they cannot sign in.",
    )
    demo_documents: int = Field(
        240, ge=0, le=5000, description="How many documents the demo generates (`huitong demo`, first `serve`)."
    )
    admin_password: SecretStr = Field(
        SecretStr(""), description="Password of the demo `admin` account. Empty: generated and printed once."
    )
    secure_cookies: bool = Field(
        False, description="Mark the session cookie Secure (only sent over HTTPS); turn on when served over HTTPS."
    )
    proxy_hops: int = Field(
        0, ge=0, le=5,
        description="Reverse proxies in front of the web server whose X-Forwarded-For/-Proto headers are trusted "
        "(client address for login throttling and the audit trail). 0: trust none.",
    )
    session_hours: int = Field(12, ge=1, le=24 * 30, description="Lifetime of a login session, in hours.")
    max_upload_mb: int = Field(200, ge=1, description="Largest accepted upload, in MiB.")
    api_rate_per_minute: int = Field(
        600, ge=0, description="Calls per minute one API token may make (429 with Retry-After beyond). 0: no limit."
    )
    search_org_boost: bool = Field(
        True, description="Org-aware ranking: boost results from the asker's own, parent and sibling departments and "
                          "projects after fusion (a query turns it off with `boost=0`; docs/search.md).")
    search_boost_own: float = Field(0.15, ge=0, le=10, description="Org boost of the asker's own department "
                                                                      "(score × (1 + this)).")
    search_boost_near: float = Field(0.08, ge=0, le=10, description="Org boost of parent and sibling departments.")
    search_boost_project: float = Field(0.05, ge=0, le=10,
                                        description="Org boost of documents shared with a project of the asker.")
    search_boost_pool: int = Field(50, ge=1, le=1000, description="How many of the best fused results the org "
                                                                  "boost re-ranks.")
    trash_days: int = Field(30, ge=0, le=36500,
                            description="Days a document stays in the trash before it is purged (unless under "
                                        "legal hold).")
    workers: int = Field(2, ge=1, le=64, description="Celery worker processes started by `huitong serve`.")
    embedding_threads: int = Field(
        0, ge=0, le=256,
        description="Torch threads per worker process for embedding. 0: the machine's cores shared out among the "
        "worker's pool processes (threads beyond the cores only contend).",
    )
    web_workers: int = Field(2, ge=1, le=64, description="Web server worker processes started by `huitong serve`.")
    web_threads: int = Field(
        32, ge=2, le=512,
        description="Threads per web worker process that run page requests (live-update streams and idle or slow "
        "connections hold none: they wait on the event loop).",
    )
    stream_max: int = Field(
        2000, ge=1, le=100000, description="Live-update streams open at once on the whole site (more: 429)."
    )
    stream_per_person: int = Field(
        12, ge=1, le=1000, description="Live-update streams one person may hold open at once (more: 429)."
    )
    stream_recheck_seconds: int = Field(
        10, ge=1, le=300,
        description="How often an open live-update stream re-checks its session (logout, deactivation end it "
        "within this time); every event is also re-checked.",
    )
    header_timeout_seconds: int = Field(
        20, ge=1, le=600, description="A connection that has not sent a complete request head in this time is closed."
    )
    body_timeout_seconds: int = Field(
        60, ge=1, le=3600, description="A request body that stalls this long between two reads is refused (408)."
    )
    task_visibility_seconds: int = Field(
        7200, ge=10, le=7 * 24 * 3600,
        description="A task taken by a worker that died is handed to another worker after this many seconds; "
        "it must exceed the longest task bound (ingestion: 1 hour).",
    )
    smtp_host: str = Field(
        "", description="SMTP server for e-mail reminders and escalations. Empty: notifications stay in-app only."
    )
    smtp_port: int = Field(587, ge=1, le=65535, description="SMTP server port.")
    smtp_user: str = Field("", description="SMTP login user name (empty: send without logging in).")
    smtp_password: SecretStr = Field(SecretStr(""), description="SMTP login password.")
    smtp_from: str = Field("huitong@localhost", description="Sender address of e-mail notifications.")
    smtp_security: Literal["starttls", "ssl", "none"] = Field(
        "starttls", description="SMTP transport security: `starttls`, `ssl` (implicit TLS) or `none` (trusted LAN)."
    )
    delivery_retry_seconds: float = Field(
        10.0, gt=0, le=3600,
        description="First retry delay of a failed webhook or robot delivery; each further retry waits 3x longer "
        "(at most 6 h).",
    )
    delivery_max_attempts: int = Field(
        8, ge=1, le=50, description="Attempts before a webhook or robot delivery is marked failed (replay resends it)."
    )
    watch_dir: Path | None = Field(
        None, description="Watch folder: files dropped here are ingested for HUITONG_WATCH_OWNER, then moved to "
        "done/ or failed/. Empty: off.",
    )
    watch_owner: str = Field("", description="User name the watch folder's files are ingested for.")
    watch_mapping: Path | None = Field(
        None, description="Mapping rule file (as `huitong ingest --mapping`) applied to watch folder files."
    )
    watch_stable_seconds: float = Field(
        5.0, ge=0, le=3600,
        description="A watch folder file is picked up once its size and modification time stayed unchanged this long.",
    )

    ocr: bool = Field(
        True, description="Recognise text in images and in PDF pages without a text layer (OCR, Chinese and English)."
    )
    ocr_engine: Literal["rapidocr", "tesseract"] = Field(
        "rapidocr",
        description="OCR engine: `rapidocr` (PP-OCRv4 models in the `rapidocr-onnxruntime` wheel) or `tesseract` "
        "(Debian `tesseract-ocr` with `chi_sim` + `eng`).",
    )
    ocr_max_pages: int = Field(50, ge=1, le=2000, description="Most PDF pages without a text layer OCR'd per file.")
    max_image_megapixels: int = Field(
        60, ge=1, le=1000,
        description="Largest image (or rendered page) decoded, in megapixels; larger ones are refused as possible "
        "decompression bombs.",
    )
    extract_timeout_s: int = Field(
        300, ge=1, le=86400,
        description="Time limit of one file's OCR or legacy-format extraction, run in a child process; past it the "
        "child is killed and the file reported.",
    )
    extract_memory_mb: int = Field(
        3072, ge=256, le=65536,
        description="Address-space limit of that child process, in MiB (a hostile file cannot exhaust the worker).",
    )

    # single sign-on (webapp/sso/, ingest/ldap_directory.py, ingest/ldap_sync.py)
    auth_methods: str = Field(
        "local", pattern=r"^\s*(local|oidc|ldap)(\s*,\s*(local|oidc|ldap))*\s*$",
        description="Sign-in methods offered, comma-separated: `local` (Huitong passwords), `oidc` (OpenID "
        "Connect), `ldap` (LDAP / Active Directory). A method not listed has no button and its routes answer 404.",
    )
    sso_create_people: bool = Field(
        False, description="Create a person on a first single sign-on login that links to nobody (default: refuse).",
    )
    sso_department: str = Field("", description="Department code of people created by single sign-on.")
    oidc_issuer: str = Field("", description="OpenID Connect issuer URL (its `/.well-known/openid-configuration` "
                             "is read).")
    oidc_client_id: str = Field("", description="OpenID Connect client id registered at the provider.")
    oidc_client_secret: SecretStr = Field(SecretStr(""), description="OpenID Connect client secret.")
    oidc_scopes: str = Field("openid email profile", description="Scopes asked of the OpenID Connect provider.")
    oidc_link_claim: str = Field(
        "email", description="ID token / userinfo claim whose value is a person's user name or e-mail "
        "(e.g. `email`, `preferred_username`).",
    )
    oidc_redirect_url: str = Field(
        "", description="Callback URL registered at the provider. Empty: `/sso/oidc/callback` on the requested host.",
    )
    ldap_url: str = Field("", description="LDAP server URL, e.g. `ldaps://dc.example.com` or `ldap://host:389`.")
    ldap_bind_dn: str = Field("", description="DN of the service account that searches the directory.")
    ldap_bind_password: SecretStr = Field(SecretStr(""), description="Password of the LDAP service account.")
    ldap_base_dn: str = Field("", description="Where users and groups are searched, e.g. `dc=example,dc=com`.")
    ldap_user_filter: str = Field(
        "(&(objectClass=inetOrgPerson)(uid={login}))",
        description="Filter finding the user who signs in (`{login}` is the typed name, escaped); Active "
        "Directory: `(&(objectClass=user)(sAMAccountName={login}))`.",
    )
    ldap_link_attribute: str = Field(
        "uid", description="Directory attribute whose value is the person's user name or e-mail "
        "(`uid`, `sAMAccountName`, `mail`).",
    )
    ldap_sync_mapping: Path | None = Field(
        None, description="Org sync mapping file (YAML or JSON: groups → departments, attributes → name/e-mail/"
        "position; see README). Empty: no sync.",
    )
    ldap_sync_minutes: int = Field(
        60, ge=0, le=7 * 24 * 60, description="How often the worker's beat runs the LDAP org sync (0: never).",
    )
    ldap_timeout_seconds: int = Field(10, ge=1, le=300, description="Connect and answer time limit of LDAP calls.")
    timezone: str = Field(
        "Asia/Shanghai",
        description="The organisation's time zone (IANA name): every time shown in pages and CSV exports is "
        "local to it.",
    )

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo

        try:
            ZoneInfo(value)
        except (KeyError, ValueError) as error:
            raise ValueError(f"unknown time zone {value!r} (use an IANA name such as Asia/Shanghai)") from error
        return value

    @field_validator("neo4j_uri")
    @classmethod
    def _neo4j_scheme(cls, value: str) -> str:
        schemes = ("bolt://", "bolt+s://", "bolt+ssc://", "neo4j://", "neo4j+s://", "neo4j+ssc://")
        if not value.startswith(schemes):
            raise ValueError(f"must start with one of {', '.join(schemes)}")
        return value

    @field_validator("broker_url")
    @classmethod
    def _broker_scheme(cls, value: str) -> str:
        if value and not value.startswith(("redis://", "rediss://", "redis+socket://", "unix://")):
            raise ValueError("must be a redis://, rediss:// or redis+socket:// URL")
        return value

    @field_validator("watch_dir", "watch_mapping", "ldap_sync_mapping", mode="before")
    @classmethod
    def _empty_is_off(cls, value: object) -> object:
        # An empty variable means "off", not the current directory (which Path("") would be).
        return None if isinstance(value, str) and not value.strip() else value

    @property
    def auth_method_set(self) -> frozenset[str]:
        return frozenset(m.strip() for m in self.auth_methods.split(",") if m.strip())

    @property
    def graph_dir(self) -> Path:
        return self.data_dir / "graph"

    @property
    def graph_socket(self) -> Path:
        return self.graph_dir / "redis.sock"

    @property
    def effective_broker_url(self) -> str:
        return self.broker_url or f"redis+socket://{self.graph_socket.resolve()}"


def _describe(error: ValidationError) -> str:
    lines = []
    for problem in error.errors():
        field = str(problem["loc"][0]) if problem["loc"] else "?"
        lines.append(f"{ENV_PREFIX}{field.upper()}: {problem['msg']} (got {problem.get('input')!r})")
    return "invalid configuration:\n  " + "\n  ".join(lines)


def load_settings(**overrides: object) -> Settings:
    """Read the settings from the environment; ``overrides`` win (used by CLI flags and tests)."""
    try:
        return Settings(**overrides)
    except ValidationError as error:
        raise SettingsError(_describe(error)) from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (read once)."""
    return load_settings()
