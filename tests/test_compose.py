"""Static validation of the container deployment (docker-compose.yml, Dockerfile, .dockerignore).

No container engine runs during the test suite, so the compose file is checked the way Compose
itself reads it: strict YAML, `${VAR...}` interpolation against a known environment, then the
official Compose Specification JSON schema (as vendored by the pinned `check-jsonschema` package).
On top of the schema, the tests pin down what the deployment relies on: services, health,
scaling, persistence, and that every HUITONG_* variable is one that settings.Settings reads.
"""

from __future__ import annotations

import copy
import json
import os
import re
import shlex
from collections.abc import Callable, Iterator, Mapping
from importlib.resources import files
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from settings import ENV_PREFIX, Settings, SettingsError, load_settings

ROOT = Path(__file__).resolve().parents[1]
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
NGINX_TEMPLATE = ROOT / "deploy" / "nginx.conf.template"
REQUIREMENTS = ROOT / "requirements.txt"

SERVICES = {"proxy", "neo4j", "redis", "web", "worker", "beat"}
APP_SERVICES = ("web", "worker", "beat")
TEST_ENV = {"HUITONG_NEO4J_PASSWORD": "compose-test-password"}
KNOWN_VARIABLES = {f"{ENV_PREFIX}{name.upper()}" for name in Settings.model_fields}


# --- Reading the compose file like Compose does ----------------------------------------------


class InterpolationError(ValueError):
    """A `${...}` expression is malformed or a required variable is missing."""


_REFERENCE = re.compile(r"\$(?:(?P<escaped>\$)|\{(?P<braced>[^}]*)\}|(?P<named>[A-Za-z_][A-Za-z0-9_]*))")
_BRACED = re.compile(r"(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?+])(?P<arg>.*))?", re.DOTALL)


def interpolate(value: str, env: Mapping[str, str]) -> str:
    """Resolve Compose's `$$`, `$VAR`, `${VAR}`, `${VAR[:]-default}`, `${VAR[:]?error}`, `${VAR[:]+alt}`."""

    def resolve(match: re.Match[str]) -> str:
        if match["escaped"]:
            return "$"
        if match["named"]:
            return env.get(match["named"], "")
        braced = _BRACED.fullmatch(match["braced"])
        if braced is None:
            raise InterpolationError(f"invalid interpolation {match[0]!r}")
        name, op, arg = braced["name"], braced["op"], braced["arg"] or ""
        present = name in env and (not op or not op.startswith(":") or env[name] != "")
        if op in ("-", ":-"):
            return env[name] if present else arg
        if op in ("?", ":?"):
            if not present:
                raise InterpolationError(f"required variable {name} is missing: {arg}")
            return env[name]
        if op in ("+", ":+"):
            return arg if present else ""
        return env.get(name, "")

    if "${" in _REFERENCE.sub("", value):
        raise InterpolationError(f"unterminated interpolation in {value!r}")
    return _REFERENCE.sub(resolve, value)


def interpolate_tree(node: Any, env: Mapping[str, str]) -> Any:
    if isinstance(node, str):
        return interpolate(node, env)
    if isinstance(node, dict):
        return {key: interpolate_tree(value, env) for key, value in node.items()}
    if isinstance(node, list):
        return [interpolate_tree(item, env) for item in node]
    return node


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that rejects duplicate keys, as Compose's YAML parser does (PyYAML keeps the last)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def load_compose(env: Mapping[str, str], text: str | None = None) -> dict[str, Any]:
    raw = yaml.load(COMPOSE_FILE.read_text(encoding="utf-8") if text is None else text, Loader=_StrictLoader)
    return interpolate_tree(raw, env)


def schema_errors(validator: jsonschema.protocols.Validator, document: Any) -> list[str]:
    return sorted(
        f"{'/'.join(map(str, error.absolute_path))}: {error.message}" for error in validator.iter_errors(document)
    )


@pytest.fixture(scope="module")
def compose_validator() -> jsonschema.protocols.Validator:
    schema_file = files("check_jsonschema.builtin_schemas.vendor") / "compose-spec.json"
    schema = json.loads(schema_file.read_text(encoding="utf-8"))
    assert schema.get("title") == "Compose Specification"
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)
    return validator_class(schema)


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return load_compose(TEST_ENV)


def app_env(compose: dict[str, Any], service: str) -> dict[str, str]:
    environment = compose["services"][service]["environment"]
    assert isinstance(environment, dict), f"{service}: environment must be a mapping"
    return {key: "" if value is None else str(value) for key, value in environment.items()}


# --- Schema ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "env",
    [TEST_ENV, {**TEST_ENV, "HUITONG_PORT": "9000", "HUITONG_BROKER_URL": "redis://cache:6380/2"}],
    ids=["defaults", "overrides"],
)
def test_compose_file_satisfies_the_compose_specification(
    compose_validator: jsonschema.protocols.Validator, env: dict[str, str]
) -> None:
    assert schema_errors(compose_validator, load_compose(env)) == []


def _unknown_top_level_key(doc: dict[str, Any]) -> None:
    doc["servces"] = doc.pop("services")


def _unknown_service_key(doc: dict[str, Any]) -> None:
    doc["services"]["web"]["imagee"] = "huitong:latest"


def _interval_as_number(doc: dict[str, Any]) -> None:
    doc["services"]["redis"]["healthcheck"]["interval"] = 5


def _unknown_depends_on_condition(doc: dict[str, Any]) -> None:
    doc["services"]["worker"]["depends_on"]["redis"]["condition"] = "service_ready"


def _ports_as_mapping(doc: dict[str, Any]) -> None:
    doc["services"]["web"]["ports"] = {"8000": 8000}


def _volumes_as_list(doc: dict[str, Any]) -> None:
    doc["volumes"] = ["huitong-data"]


@pytest.mark.parametrize(
    ("breakage", "where"),
    [
        (_unknown_top_level_key, ": 'servces'"),
        (_unknown_service_key, "services/web: "),
        (_interval_as_number, "services/redis/healthcheck/interval: "),
        (_unknown_depends_on_condition, "services/worker/depends_on: "),
        (_ports_as_mapping, "services/web/ports: "),
        (_volumes_as_list, "volumes: "),
    ],
)
def test_broken_compose_documents_fail_validation(
    compose_validator: jsonschema.protocols.Validator,
    compose: dict[str, Any],
    breakage: Callable[[dict[str, Any]], None],
    where: str,
) -> None:
    broken = copy.deepcopy(compose)
    breakage(broken)
    errors = schema_errors(compose_validator, broken)
    # The error must point at the broken spot, not at something else that happens to be invalid.
    assert any(error.startswith(where) for error in errors), errors


@pytest.mark.parametrize("env", [{}, {"HUITONG_NEO4J_PASSWORD": ""}], ids=["unset", "empty"])
def test_neo4j_password_is_required(env: dict[str, str]) -> None:
    with pytest.raises(InterpolationError, match="HUITONG_NEO4J_PASSWORD"):
        load_compose(env)


def test_duplicate_keys_and_bad_interpolation_are_refused() -> None:
    with pytest.raises(yaml.constructor.ConstructorError, match="duplicate key 'image'"):
        load_compose(TEST_ENV, "services:\n  web:\n    image: a\n    image: b\n")
    with pytest.raises(InterpolationError, match="unterminated"):
        load_compose(TEST_ENV, "services:\n  web:\n    image: huitong:${TAG:-latest\n")


# --- Configuration: only HUITONG_* settings that exist, and valid ones -----------------------


def test_interpolated_variables_are_settings_fields() -> None:
    text = COMPOSE_FILE.read_text(encoding="utf-8")
    referenced = {
        m["named"] or _BRACED.fullmatch(m["braced"])["name"] for m in _REFERENCE.finditer(text) if not m["escaped"]
    }
    assert referenced, "the compose file interpolates nothing: the settings are not configurable"
    assert referenced <= KNOWN_VARIABLES, f"unknown variables: {sorted(referenced - KNOWN_VARIABLES)}"


def test_every_service_uses_only_known_huitong_variables(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        environment = service.get("environment") or {}
        keys = set(environment) if isinstance(environment, dict) else {item.split("=", 1)[0] for item in environment}
        unknown = {key for key in keys if key.startswith(ENV_PREFIX)} - KNOWN_VARIABLES
        assert not unknown, f"{name}: variables that settings.Settings does not read: {sorted(unknown)}"


def test_app_services_share_one_configuration(compose: dict[str, Any]) -> None:
    envs = [app_env(compose, service) for service in APP_SERVICES]
    assert envs[0] == envs[1] == envs[2]
    assert set(envs[0]) <= KNOWN_VARIABLES


@pytest.mark.parametrize("service", APP_SERVICES)
def test_app_environment_loads_into_settings(
    compose: dict[str, Any], service: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _use_only(monkeypatch, app_env(compose, service))
    settings = load_settings()
    assert settings.graph == "neo4j"
    assert settings.neo4j_uri == "bolt://neo4j:7687"
    assert settings.neo4j_password.get_secret_value() == TEST_ENV["HUITONG_NEO4J_PASSWORD"]
    assert settings.broker_url == "redis://redis:6379/0"
    assert settings.host == "0.0.0.0"
    assert settings.port == _exposed_port()
    assert str(settings.data_dir) == _data_mount(compose, service)


def test_bad_value_passed_through_compose_is_refused_by_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    compose = load_compose({**TEST_ENV, "HUITONG_BROKER_URL": "amqp://rabbit:5672//"})
    _use_only(monkeypatch, app_env(compose, "worker"))
    with pytest.raises(SettingsError, match="HUITONG_BROKER_URL"):
        load_settings()


def _use_only(monkeypatch: pytest.MonkeyPatch, env: Mapping[str, str]) -> None:
    for key in list(os.environ):
        if key.startswith(ENV_PREFIX):
            monkeypatch.delenv(key)
    for key, value in env.items():
        monkeypatch.setenv(key, value)


# --- Services, health, scaling, persistence --------------------------------------------------


def _command(service: dict[str, Any]) -> str:
    command = service.get("command", "")
    return command if isinstance(command, str) else shlex.join(command)


def test_the_six_services_and_their_roles(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(services) == SERVICES
    assert services["neo4j"]["image"].startswith("neo4j:5") and "enterprise" not in services["neo4j"]["image"]
    assert services["neo4j"]["environment"]["NEO4J_AUTH"] == f"neo4j/{TEST_ENV['HUITONG_NEO4J_PASSWORD']}"
    assert services["redis"]["image"].split(":")[1].startswith("7")
    assert re.search(r"--appendonly\s+'?yes", _command(services["redis"])), "redis must keep an AOF"
    web = _command(services["web"])
    assert re.search(r"huitong init-db\s*&&\s*exec huitong web", web), web
    assert _command(services["worker"]) == "huitong worker"
    assert _command(services["beat"]) == "huitong beat"
    for name in APP_SERVICES:
        assert services[name]["build"]["dockerfile"] == "Dockerfile"
        assert services[name]["image"] == services["web"]["image"]


def test_every_service_has_a_healthcheck(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        check = service.get("healthcheck")
        assert check and not check.get("disable"), f"{name}: no healthcheck"
        assert check["test"][0] in ("CMD", "CMD-SHELL") and len(check["test"]) > 1, name
    assert "/healthz" in " ".join(compose["services"]["web"]["healthcheck"]["test"])
    for name in ("worker", "beat"):
        # The image's HEALTHCHECK probes /healthz, which only web serves.
        assert compose["services"][name]["healthcheck"]["test"][1:] == ["huitong", "check", "--json"]


def test_app_services_wait_for_healthy_dependencies(compose: dict[str, Any]) -> None:
    for name in APP_SERVICES:
        depends_on = compose["services"][name]["depends_on"]
        for dependency in ("neo4j", "redis"):
            assert depends_on[dependency]["condition"] == "service_healthy", f"{name} -> {dependency}"
    for name in ("worker", "beat"):
        assert compose["services"][name]["depends_on"]["web"]["condition"] == "service_healthy"


def test_worker_is_scalable(compose: dict[str, Any]) -> None:
    worker = compose["services"]["worker"]
    for fixed in ("container_name", "hostname", "ports"):
        assert fixed not in worker, f"worker sets {fixed}: `--scale worker=N` would clash"
    assert all("container_name" not in service for service in compose["services"].values())


def test_only_the_proxy_is_published() -> None:
    services = load_compose({**TEST_ENV, "HUITONG_PORT": "9000"})["services"]
    assert services["proxy"]["ports"] == ["9000:80"]
    assert load_compose(TEST_ENV)["services"]["proxy"]["ports"] == ["8000:80"]
    assert [name for name, service in services.items() if service.get("ports")] == ["proxy"]
    assert services["proxy"]["build"]["target"] == "proxy"
    assert services["proxy"]["depends_on"]["web"]["condition"] == "service_healthy"
    # web trusts exactly the one proxy in front of it for client addresses.
    assert app_env({"services": services}, "web")["HUITONG_PROXY_HOPS"] == "1"


def _nginx() -> str:
    return NGINX_TEMPLATE.read_text(encoding="utf-8")


def _location(config: str, opening: str) -> str:
    """The block that ``opening`` starts, up to its closing brace (alone on its line: ${...} holds braces too)."""
    start = config.index(opening)
    end = re.compile(r"^\s*\}\s*$", re.MULTILINE).search(config, start)
    assert end, opening
    return config[start:end.start()]


def test_proxy_limits_match_the_app() -> None:
    config = _nginx()
    compose = load_compose(TEST_ENV)
    assert "client_max_body_size ${HUITONG_MAX_UPLOAD_MB}m;" in config
    assert compose["services"]["proxy"]["environment"]["HUITONG_MAX_UPLOAD_MB"] == \
        app_env(compose, "web")["HUITONG_MAX_UPLOAD_MB"]
    from webapp.front import MAX_HEAD_BYTES

    assert f"large_client_header_buffers 4 {MAX_HEAD_BYTES // 1024}k;" in config
    for directive in ("client_header_timeout", "client_body_timeout", "send_timeout", "gzip on"):
        assert re.search(rf"^\s*{directive}\b", config, re.MULTILINE), directive
    # nginx drops its idle connections to the app before the app's keep-alive ends them.
    from webapp.front import KEEP_ALIVE_SECONDS

    upstream_idle = re.search(r"keepalive_timeout (\d+)s;", _location(config, "upstream huitong_web {"))
    assert upstream_idle and int(upstream_idle[1]) < KEEP_ALIVE_SECONDS


def _proxy_env(dockerfile: list[tuple[str, str]]) -> dict[str, str]:
    proxy = next(stage for stage in _stages(dockerfile) if stage[0][1].endswith(" AS proxy"))
    return dict(pair.split("=", 1) for keyword, args in proxy if keyword == "ENV" for pair in shlex.split(args))


def test_proxy_template_placeholders_are_set_in_the_image(dockerfile: list[tuple[str, str]]) -> None:
    """The image's envsubst step leaves an unset ${NAME} as it is, and nginx would not start: every placeholder
    has a default in the proxy stage, and the defaults are compose's (web's port, the copied static files)."""
    placeholders = set(re.findall(r"\$\{(\w+)\}", _nginx()))
    defaults = _proxy_env(dockerfile)
    assert placeholders == {"HUITONG_MAX_UPLOAD_MB", "PROXY_UPSTREAM", "PROXY_LISTEN", "PROXY_STATIC_ROOT"}
    assert placeholders <= set(defaults)
    assert defaults["PROXY_UPSTREAM"] == f"web:{_exposed_port()}"
    assert load_compose(TEST_ENV)["services"]["proxy"]["ports"] == [f"8000:{defaults['PROXY_LISTEN']}"]
    assert re.search(r"^\s*listen \$\{PROXY_LISTEN\};", _nginx(), re.MULTILINE)
    assert re.search(r"^\s*server \$\{PROXY_UPSTREAM\};", _nginx(), re.MULTILINE)


def test_proxy_streams_unbuffered_and_buffers_the_rest() -> None:
    import werkzeug.routing

    from webapp import create_app

    config = _nginx()
    streams = _location(config, "location ~ ^/(events|documents/live|documents/[^/]+/events)$")
    assert "proxy_buffering off;" in streams and "gzip off;" in streams
    rest = _location(config, "location / {")
    assert "proxy_buffering on;" in rest and "proxy_request_buffering on;" in rest
    pattern = re.compile(r"^/(events|documents/live|documents/[^/]+/events)$")
    app = create_app()
    stream_rules = [r for r in app.url_map.iter_rules() if r.endpoint in ("events.stream", "documents.stream",
                                                                          "browse.live")]
    assert len(stream_rules) == 3
    for rule in stream_rules:
        assert isinstance(rule, werkzeug.routing.Rule)
        assert pattern.match(re.sub(r"<[^>]+>", "x", rule.rule)), rule.rule


def test_proxy_image_holds_every_static_file_the_app_serves(dockerfile: list[tuple[str, str]]) -> None:
    from webapp.views.assets import VENDOR_FILES, VENDOR_FOLDERS

    stages = _stages(dockerfile)
    proxy = next(stage for stage in stages if stage[0][1].endswith(" AS proxy"))
    assert proxy[0][1].startswith("nginx:")
    copies = [args for keyword, args in proxy if keyword == "COPY"]
    for name, relative in VENDOR_FILES.items():
        assert f"--from=assets /assets/node_modules/{relative} /srv/huitong/static/vendor/{name}" in copies, name
    for name, relative in VENDOR_FOLDERS.items():
        assert f"--from=assets /assets/node_modules/{relative}/ /srv/huitong/static/vendor/{name}/" in copies, name
    assert "webapp/static/ /srv/huitong/static/" in copies
    assert "deploy/nginx.conf.template /etc/nginx/templates/default.conf.template" in copies
    assert "alias ${PROXY_STATIC_ROOT}/;" in _location(_nginx(), "location /static/ {")
    assert _proxy_env(dockerfile)["PROXY_STATIC_ROOT"] == "/srv/huitong/static"


def _named_volumes(service: dict[str, Any]) -> Iterator[tuple[str, str]]:
    for volume in service.get("volumes", []):
        if isinstance(volume, str):
            source, _, target = volume.partition(":")
            target = target.split(":")[0]
        else:
            source, target = volume.get("source", ""), volume["target"]
        if source and not source.startswith((".", "/", "~")):
            yield source, target


def _data_mount(compose: dict[str, Any], service: str) -> str:
    mounts = dict(_named_volumes(compose["services"][service]))
    assert "huitong-data" in mounts, f"{service}: the shared data volume is not mounted"
    return mounts["huitong-data"]


def test_state_lives_in_declared_named_volumes(compose: dict[str, Any]) -> None:
    declared = set(compose["volumes"])
    for name, service in compose["services"].items():
        used = dict(_named_volumes(service))
        assert used, f"{name}: keeps its state in no named volume"
        assert set(used) <= declared, f"{name}: undeclared volumes {sorted(set(used) - declared)}"
    for name in ("neo4j", "redis"):
        assert "/data" in dict(_named_volumes(compose["services"][name])).values()
    for name in APP_SERVICES:
        # One volume shared by web and workers, mounted where HUITONG_DATA_DIR points.
        assert _data_mount(compose, name) == app_env(compose, name)["HUITONG_DATA_DIR"]


# --- Dockerfile and build context -----------------------------------------------------------


def dockerfile_instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with continuation lines joined and comments dropped."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for line in text.splitlines():
        if line.strip().startswith("#") or not line.strip():
            continue
        pending += line.rstrip()
        if pending.endswith("\\"):
            pending = pending[:-1] + " "
            continue
        keyword, _, arguments = pending.strip().partition(" ")
        instructions.append((keyword.upper(), " ".join(arguments.split())))
        pending = ""
    return instructions


@pytest.fixture(scope="module")
def dockerfile() -> list[tuple[str, str]]:
    return dockerfile_instructions(DOCKERFILE.read_text(encoding="utf-8"))


def _exposed_port() -> int:
    runtime = _stages(dockerfile_instructions(DOCKERFILE.read_text(encoding="utf-8")))[-1]
    exposed = [args for keyword, args in runtime if keyword == "EXPOSE"]
    assert len(exposed) == 1, exposed
    return int(exposed[0].split("/")[0])


def _with_args(arguments: str, instructions: list[tuple[str, str]]) -> str:
    defaults = dict(args.split("=", 1) for keyword, args in instructions if keyword == "ARG" and "=" in args)
    return re.sub(r"\$\{?(\w+)\}?", lambda m: defaults.get(m[1], m[0]).strip('"'), arguments)


def _stages(instructions: list[tuple[str, str]]) -> list[list[tuple[str, str]]]:
    stages: list[list[tuple[str, str]]] = []
    for keyword, args in instructions:
        if keyword == "FROM":
            stages.append([])
        if stages:
            stages[-1].append((keyword, args))
    return stages


def test_multi_stage_build_keeps_node_out_of_the_runtime(dockerfile: list[tuple[str, str]]) -> None:
    node, _proxy, runtime = _stages(dockerfile)
    node_image, _, node_name = node[0][1].partition(" AS ")
    assert node_image.startswith("node:20") and node_name
    assert runtime[0][1].split()[0] == "python:3.11-slim"
    assert any(keyword == "RUN" and "npm ci" in args for keyword, args in node)
    assert any(
        keyword == "COPY" and f"--from={node_name}" in args and "node_modules" in args for keyword, args in runtime
    )
    assert not any("npm" in args or "node:" in args for keyword, args in runtime if keyword in ("RUN", "FROM"))


def _npm_package(relative: str) -> str:
    parts = relative.split("/")
    return "/".join(parts[:2]) if parts[0].startswith("@") else parts[0]


def test_image_serves_assets_from_where_the_web_app_looks(dockerfile: list[tuple[str, str]]) -> None:
    from webapp.views.assets import NODE_MODULES, VENDOR_FILES, VENDOR_FOLDERS

    # The web app resolves node_modules next to its source tree, so the image must keep the code
    # in place (editable install) with node_modules beside it.
    assert NODE_MODULES == ROOT / "node_modules"
    runtime = _stages(dockerfile)[-1]
    workdir = [args for keyword, args in runtime if keyword == "WORKDIR"][-1]
    assert ("COPY", ". .") in runtime
    copied = next(args for keyword, args in runtime if keyword == "COPY" and "node_modules" in args)
    assert copied.split()[-1] in ("./node_modules", f"{workdir}/node_modules")
    assert any(keyword == "RUN" and re.search(r"pip install .*(--editable|-e) \.", args) for keyword, args in runtime)
    # The image runs `npm ci --omit=dev`: every served package must be a runtime dependency.
    dependencies = json.loads((ROOT / "package.json").read_text(encoding="utf-8"))["dependencies"]
    served = [*VENDOR_FILES.values(), *VENDOR_FOLDERS.values()]
    assert {_npm_package(relative) for relative in served} <= set(dependencies)


def test_dockerfile_installs_the_pinned_cpu_torch(dockerfile: list[tuple[str, str]]) -> None:
    pinned = next(line.strip() for line in REQUIREMENTS.read_text().splitlines() if line.startswith("torch=="))
    assert pinned == "torch==2.13.0"
    runs = [_with_args(args, dockerfile) for keyword, args in dockerfile if keyword == "RUN"]
    torch_runs = [run for run in runs if re.search(r"\btorch==", run)]
    assert torch_runs, "the Dockerfile does not pin torch"
    assert all(re.findall(r"\btorch==[\w.+]+", run) == [pinned] for run in torch_runs), torch_runs
    assert any(re.search(r"--(extra-)?index-url\s+\S*download\.pytorch\.org/whl/cpu", run) for run in torch_runs)
    assert any("-r requirements.txt" in run for run in runs)


def test_runtime_runs_as_a_non_root_user_with_a_health_probe(dockerfile: list[tuple[str, str]]) -> None:
    users = [args for keyword, args in dockerfile if keyword == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0")
    assert _exposed_port() == Settings.model_fields["port"].default
    healthchecks = [args for keyword, args in dockerfile if keyword == "HEALTHCHECK"]
    assert len(healthchecks) == 1 and "/healthz" in healthchecks[0]
    assert any(keyword in ("CMD", "ENTRYPOINT") and "huitong" in args for keyword, args in dockerfile)


def test_build_context_excludes_local_state_and_secrets() -> None:
    patterns = {line.strip().rstrip("/") for line in DOCKERIGNORE.read_text().splitlines()}
    assert {".venv", "node_modules", ".git", "data", ".env"} <= patterns
