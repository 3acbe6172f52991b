"""A mock provider for contract tests: Prism serving an official OpenAPI description,
behind a validating proxy that checks every request against the same description.

Why both: Prism (``@stoplight/prism-cli``, installed by ``make setup`` into
``.venv/prism``) answers each call with a response of the documented shape and refuses
invalid requests with 422, but it silently stops validating a request body whose schema
it cannot compile (Plaid's ``/transfer/authorization/create`` is one: a nullable enum
inside ``allOf``), answering 200 to anything. The proxy validates every JSON body with
``jsonschema`` against the operation's schema, so an invalid request is caught whether or
not Prism noticed, and it records what Prism itself reported (422, ``sl-violations``).

Use ``with start_mock(SPEC) as peer:`` then point the SDK at ``peer.base_url``; after the
calls, ``peer.request_violations()`` must be empty. ``peer.calls`` lists what was sent.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jsonschema
import yaml

from tests.contract.peers import free_port

REPO_ROOT = Path(__file__).resolve().parents[2]
SPECS = REPO_ROOT.parent / "shared" / "specs"
PLAID_SPEC = SPECS / "plaid-openapi-2020-09-14.yml"
SQUARE_SPEC = SPECS / "square-connect-api.json"
PRISM = Path(os.environ.get("ISA_PRISM", REPO_ROOT / ".venv/prism/node_modules/.bin/prism"))
START_TIMEOUT_SECONDS = 90.0
_METHODS = ("get", "put", "post", "delete", "patch")


@dataclass(frozen=True, slots=True)
class Call:
    """One request the SDK sent, and what the validation said of it."""

    method: str
    path: str
    body: Any
    status: int
    violations: tuple[str, ...]


@dataclass
class MockPeer:
    base_url: str
    spec: Path
    calls: list[Call] = field(default_factory=list)

    def request_violations(self) -> list[str]:
        """Every way a request so far broke the description: empty when all were valid."""
        return [
            f"{call.method} {call.path}: {violation}"
            for call in self.calls
            for violation in call.violations
        ]

    def paths(self) -> list[str]:
        return [f"{call.method} {call.path}" for call in self.calls]


@dataclass(frozen=True, slots=True)
class _Operation:
    method: str
    template: str
    pattern: re.Pattern[str]
    body_pointer: str | None  # JSON pointer of the request body schema, when JSON


class Description:
    """An OpenAPI 3.0 description, loaded once, able to validate request bodies."""

    def __init__(self, path: Path) -> None:
        raw = _load(path)
        self.document = _as_json_schema(raw)
        self.operations = _operations(raw)

    def find(self, method: str, path: str) -> _Operation | None:
        matches = [
            op for op in self.operations if op.method == method and op.pattern.fullmatch(path)
        ]
        # The most specific template wins: /v2/payments/{id}/complete over /v2/payments/{id}.
        matches.sort(key=lambda op: op.template.count("{"))
        return matches[0] if matches else None

    def body_violations(self, operation: _Operation, body: Any) -> list[str]:
        if operation.body_pointer is None:
            return []
        schema = {**self.document, "$ref": operation.body_pointer}
        validator = jsonschema.Draft4Validator(schema)
        return [
            f"{'/'.join(str(p) for p in error.absolute_path) or '(body)'}: {error.message}"
            for error in validator.iter_errors(body)
        ]


@cache
def description(path: Path) -> Description:
    return Description(path)


def _load(path: Path) -> dict[str, Any]:
    text = path.read_text()
    if path.suffix == ".json":
        loaded = json.loads(text)
    else:
        loaded = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    assert isinstance(loaded, dict)
    return loaded


def _as_json_schema(node: Any) -> Any:
    """OpenAPI 3.0 schema dialect -> JSON Schema draft 4 (``nullable``; ``readOnly``
    properties are not required in requests)."""
    if isinstance(node, list):
        return [_as_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {key: _as_json_schema(value) for key, value in node.items()}
    properties = converted.get("properties")
    if isinstance(properties, dict) and isinstance(converted.get("required"), list):
        converted["required"] = [
            name
            for name in converted["required"]
            if not (isinstance(properties.get(name), dict) and properties[name].get("readOnly"))
        ]
    if converted.pop("nullable", False) is True:
        return {"anyOf": [{"type": "null"}, converted]}
    return converted


def _operations(raw: Mapping[str, Any]) -> list[_Operation]:
    found = []
    for template, item in raw.get("paths", {}).items():
        for method in _METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            pointer = None
            content = operation.get("requestBody", {}).get("content", {})
            if "application/json" in content:
                pointer = "#/paths/{}/{}/requestBody/content/application~1json/schema".format(
                    template.replace("~", "~0").replace("/", "~1"), method
                )
            regex = re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template))
            found.append(_Operation(method.upper(), template, re.compile(regex), pointer))
    return found


def _proxy(prism_base: str, spec: Description, peer: MockPeer) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            return

        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            path = urlsplit(self.path).path
            violations = []
            body: Any = None
            operation = spec.find(self.command, path)
            if operation is None:
                violations.append("no such operation in the description")
            elif raw:
                try:
                    body = json.loads(raw)
                except ValueError:
                    violations.append("body is not JSON")
                else:
                    violations.extend(spec.body_violations(operation, body))
            headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
            forwarded = urllib.request.Request(
                prism_base + self.path, data=raw or None, method=self.command, headers=headers
            )
            try:
                with urllib.request.urlopen(forwarded, timeout=30) as answer:
                    status, reply, reply_headers = answer.status, answer.read(), answer.headers
            except urllib.error.HTTPError as error:
                status, reply, reply_headers = error.code, error.read(), error.headers
            if status == 422:
                violations.append(f"Prism refused it (422): {reply.decode(errors='replace')}")
            for reported in json.loads(reply_headers.get("sl-violations") or "[]"):
                if reported.get("severity") == "Error" and "request" in reported.get(
                    "location", []
                ):
                    violations.append(f"Prism: {reported.get('message')}")
            peer.calls.append(Call(self.command, path, body, status, tuple(violations)))
            self.send_response(status)
            for name in ("Content-Type",):
                if reply_headers.get(name):
                    self.send_header(name, reply_headers[name])
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _handle

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    server.daemon_threads = True
    return server


def _wait_for_prism(process: subprocess.Popen[bytes], port: int, output: Any) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1).close()
            return
        except urllib.error.HTTPError:
            return  # it answers (404 for /): it is up
        except (urllib.error.URLError, ConnectionError, OSError):
            if process.poll() is not None or time.monotonic() > deadline:
                output.seek(0)
                said = output.read().decode(errors="replace")[-2000:]
                raise RuntimeError(f"prism did not start (exit {process.poll()}): {said}") from None
            time.sleep(0.2)


@contextmanager
def start_mock(spec_path: Path) -> Iterator[MockPeer]:
    """Prism on a free port serving ``spec_path``, behind the validating proxy."""
    if not PRISM.exists():
        raise RuntimeError(
            f"{PRISM} is missing: `make test` installs it "
            "(alone: `make .venv/prism/node_modules/.bin/prism`)"
        )
    spec = description(spec_path)
    port = free_port()
    output = tempfile.TemporaryFile()  # noqa: SIM115 - closed in the finally below
    process = subprocess.Popen(
        [str(PRISM), "mock", "--host", "127.0.0.1", "-p", str(port), str(spec_path)],
        stdout=output,
        stderr=subprocess.STDOUT,
    )
    proxy = None
    try:
        _wait_for_prism(process, port, output)
        peer = MockPeer(base_url="", spec=spec_path)
        proxy = _proxy(f"http://127.0.0.1:{port}", spec, peer)
        threading.Thread(target=proxy.serve_forever, daemon=True).start()
        peer.base_url = f"http://127.0.0.1:{proxy.server_address[1]}"
        yield peer
    finally:
        if proxy is not None:
            proxy.shutdown()
            proxy.server_close()
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        output.close()
