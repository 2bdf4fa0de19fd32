"""``evalcore serve DIR``: local results under Studio's model-testing API paths, read-only.

A script written for Studio (the official clients, or plain HTTP) reads local results unchanged
when pointed at this server instead of ``https://studio.edgeimpulse.com/v1``:

- ``GET /v1/api/{projectId}/classify/all/result[?variant=]``: the file's bytes as they are;
- ``GET /v1/api/{projectId}/classify/all/result/page?limit=&offset=[&variant=]``: a
  ``ClassifyJobResponsePage`` computed from the full result: samples ``offset .. offset+limit-1``
  (in the file's order), the predictions of those samples and ``totalCount``; written with
  ``jsonio.dumps``, so a page is byte-identical to the ``page-<k>.json`` that ``evalcore run
  --page-size N --out-dir`` writes for ``limit=N&offset=k*N``.

Layout of ``DIR`` (the only files ever read; see `ResultStore.locate`):

- ``DIR/<projectId>/<variant>/result.json``: one result per model variant;
- ``DIR/<projectId>/result.json``: the project's default result; its variant is the ``variant``
  of the ``result.run.json`` sidecar ``evalcore run`` writes next to it.

Without ``variant``, ``<projectId>/result.json`` answers, else the project's only variant folder.
A result whose sidecar names another category (``evalcore run --category``) answers only to that
``category`` (Studio's default: testing). Parameters the files cannot honour (Studio's page filters,
``impulseId``, ``featureExplorerOnly=true``, ``truncateStructuredLabels=true``) are refused, never
ignored. The ``x-api-key`` header is accepted and ignored, or, with ``api_key``, required.

Errors answer as Studio does, ``{"success":false,"error":"..."}`` (``GenericApiResponse``), with an
HTTP status: 400 bad parameter, 401 wrong API key (only with ``api_key``), 403 a path that leaves
``DIR`` (``..``, or a symlink that resolves outside it), 404 no such route / project / variant,
405 a method other than GET and HEAD, 500 an unreadable result file. Studio's own status codes are
not documented; both official clients report the ``error`` text whatever the status.

The standard library's ``ThreadingHTTPServer`` serves; nothing is written and nothing is run.
"""

from __future__ import annotations

import hmac
import json
import re
import socket
import sys
import threading
import traceback
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

from evalcore.errors import ConfigError

__all__ = ["ApiError", "Loaded", "ResultStore", "make_server", "serve_forever", "page_json", "predictions_by_sample"]

VARIANTS = ("float32", "int8", "akida")
_CATEGORIES = ("testing", "training", "validation")
RESULT_NAME = "result.json"
SIDECAR_NAME = "result.run.json"
API_KEY_HEADER = "x-api-key"

_ROUTE = re.compile(r"^/v1/api/(?P<project>[^/]+)/classify/all/result(?P<page>/page)?/?$")

# Query parameters the clients may send that evalcore's files can honour as Studio does.
_FULL_PARAMS = {"variant", "featureExplorerOnly", "truncateStructuredLabels", "category", "impulseId"}
_PAGE_PARAMS = {"variant", "truncateStructuredLabels", "category", "impulseId", "limit", "offset"}
# Studio's page filters (``labels``, ``filename``, ...): answered 400, never silently ignored.
_PAGE_FILTERS = {
    "labels", "filename", "maxLength", "minLength", "minFrequency", "maxFrequency", "signatureValidity",
    "minLabel", "maxLabel", "search", "dataType", "minId", "maxId", "metadata", "minDate", "maxDate",
}


class ApiError(Exception):
    """A request that is answered ``{"success":false,"error":message}`` with an HTTP ``status``."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def error_json(message: str) -> bytes:
    """Studio's ``GenericApiResponse`` for a failed request."""
    from evalcore.jsonio import dumps

    return dumps({"success": False, "error": message})


def predictions_by_sample(response: dict) -> dict:
    """``{sampleId: [prediction rows]}`` of a parsed full result, rows in file order."""
    by_sample: dict = {}
    for row in response["predictions"]:
        by_sample.setdefault(row.get("sampleId"), []).append(row)
    return by_sample


def page_json(response: dict, offset: int, limit: int | None, by_sample: dict | None = None) -> bytes:
    """The ``ClassifyJobResponsePage`` bytes of samples ``offset .. offset+limit-1`` of ``response``.

    ``response`` is the parsed full result (``json.loads`` of a ``ClassifyJobResponse`` that
    ``jsonio.dumps`` wrote); ``limit`` None runs to the last sample; ``by_sample`` is
    ``predictions_by_sample(response)`` when the caller keeps it. Same rule as
    ``report.paginate``: a page holds the prediction rows of every sample on it, in page order.
    """
    from evalcore.jsonio import dumps

    if by_sample is None:
        by_sample = predictions_by_sample(response)
    results = response["result"]
    end = len(results) if limit is None else offset + limit
    chunk = results[offset:end]
    rows = [row for entry in chunk for row in by_sample.get(entry.get("sampleId"), ())]
    return dumps({"success": True, "result": chunk, "predictions": rows, "totalCount": len(results)})


@dataclass
class Loaded:
    """A parsed full result and its prediction rows by sample, as of the file's ``stamp``."""

    stamp: tuple[int, int]
    response: dict
    by_sample: dict


class ResultStore:
    """The result files under one folder: finds them for a request, refuses paths outside it.

    Parameters
    ----------
    root : str or os.PathLike
        The served folder (``DIR``); it must exist.
    """

    def __init__(self, root):
        path = Path(root)
        if not path.is_dir():
            raise ConfigError(f"serve: {root} is not a folder")
        self.root = path.resolve()
        self._cache: dict[Path, Loaded] = {}
        self._lock = threading.Lock()

    def _inside(self, path: Path) -> Path:
        """``path`` with symlinks resolved; ApiError 403 when that leaves the served folder."""
        resolved = path.resolve()
        if not resolved.is_relative_to(self.root):
            raise ApiError(HTTPStatus.FORBIDDEN, f"refused: {path.relative_to(self.root)} resolves outside the served folder")
        return resolved

    def variants(self, project_id: int) -> dict[str, Path]:
        """``{variant: result file}`` of a project; ``""`` keys a top-level result without a known variant."""
        project = self.root / str(project_id)
        if not project.is_dir():
            known = sorted(p.name for p in self.root.iterdir() if p.is_dir() and p.name.isdigit())
            have = ", ".join(known) if known else "none"
            raise ApiError(HTTPStatus.NOT_FOUND, f"project {project_id} has no results here (projects served: {have})")
        self._inside(project)
        found: dict[str, Path] = {}
        top = project / RESULT_NAME
        if top.is_file():
            found[self._sidecar_variant(project / SIDECAR_NAME)] = top
        for variant in VARIANTS:
            candidate = project / variant / RESULT_NAME
            if candidate.is_file():
                found[variant] = candidate  # a variant folder wins over the sidecar's claim
        return found

    def _sidecar(self, sidecar: Path) -> dict:
        """The ``result.run.json`` next to a result (``{}`` when there is none)."""
        if not sidecar.is_file():
            return {}
        try:
            info = json.loads(self._inside(sidecar).read_bytes())
        except (OSError, ValueError) as err:
            raise ApiError(HTTPStatus.INTERNAL_SERVER_ERROR, f"cannot read {sidecar.relative_to(self.root)}: {err}") from err
        return info if isinstance(info, dict) else {}

    def _sidecar_variant(self, sidecar: Path) -> str:
        variant = self._sidecar(sidecar).get("variant")
        return variant if variant in VARIANTS else ""

    def _check_category(self, path: Path, category: str) -> None:
        """ApiError 404 when the sidecar says the result is of another category than asked."""
        options = self._sidecar(path.with_name(SIDECAR_NAME)).get("options")
        ran = options.get("category") if isinstance(options, dict) else None
        if ran is not None and ran != category:
            raise ApiError(HTTPStatus.NOT_FOUND, f"{path.relative_to(self.root)} is a result of the {ran} set, "
                           f"not of {category} (ask with category={ran})")

    def locate(self, project_id: int, variant: str | None, category: str = "testing") -> Path:
        """The result file for a request (symlinks resolved, inside the served folder).

        With ``variant``: ``<project>/<variant>/result.json``, else ``<project>/result.json`` when its
        sidecar names that variant. Without: ``<project>/result.json``, else the only variant folder.
        A result whose sidecar names another ``category`` (``evalcore run --category``) is refused.
        """
        found = self.variants(project_id)
        have = ", ".join(sorted(v for v in found if v)) or "none with a known variant"
        if variant is not None:
            if variant not in found:
                raise ApiError(HTTPStatus.NOT_FOUND, f"project {project_id} has no {variant} result (variants: {have})")
            path = found[variant]
        else:
            top = self.root / str(project_id) / RESULT_NAME
            if top.is_file():
                path = top
            elif len(found) == 1:
                path = next(iter(found.values()))
            elif not found:
                raise ApiError(HTTPStatus.NOT_FOUND, f"project {project_id} has no {RESULT_NAME}")
            else:
                raise ApiError(HTTPStatus.BAD_REQUEST, f"project {project_id} has several results: give variant ({have})")
        self._check_category(path, category)
        return self._inside(path)

    def read_bytes(self, path: Path) -> bytes:
        """The bytes of a located result file; ApiError 500 when it cannot be read."""
        try:
            return path.read_bytes()
        except OSError as err:
            raise ApiError(HTTPStatus.INTERNAL_SERVER_ERROR, f"cannot read {path.relative_to(self.root)}: {err.strerror}") from err

    def load(self, path: Path) -> Loaded:
        """The parsed full result of ``path``, cached until the file changes."""
        try:
            st = path.stat()
        except OSError as err:
            raise ApiError(HTTPStatus.INTERNAL_SERVER_ERROR, f"cannot read {path.relative_to(self.root)}: {err.strerror}") from err
        stamp = (st.st_mtime_ns, st.st_size)
        with self._lock:
            cached = self._cache.get(path)
            if cached is not None and cached.stamp == stamp:
                return cached
        where = path.relative_to(self.root)
        try:
            response = json.loads(self.read_bytes(path))
        except ValueError as err:
            raise ApiError(HTTPStatus.INTERNAL_SERVER_ERROR, f"{where} is not JSON: {err}") from err
        if not (isinstance(response, dict) and isinstance(response.get("result"), list)
                and isinstance(response.get("predictions"), list)
                and all(isinstance(item, dict) for item in response["result"] + response["predictions"])):
            raise ApiError(HTTPStatus.INTERNAL_SERVER_ERROR,
                           f"{where} is not a ClassifyJobResponse (no result/predictions lists of objects)")
        loaded = Loaded(stamp, response, predictions_by_sample(response))
        with self._lock:
            self._cache[path] = loaded
        return loaded


def _query(query: str, allowed: set[str]) -> dict[str, str]:
    params: dict[str, str] = {}
    for key, value in parse_qsl(query, keep_blank_values=True):
        if key in _PAGE_FILTERS:
            raise ApiError(HTTPStatus.BAD_REQUEST, f"the {key} filter is not supported by evalcore serve (it serves whole results)")
        if key not in allowed:
            raise ApiError(HTTPStatus.BAD_REQUEST, f"unknown query parameter {key!r} (allowed: {', '.join(sorted(allowed))})")
        if key in params:
            raise ApiError(HTTPStatus.BAD_REQUEST, f"query parameter {key!r} is given twice")
        params[key] = value
    return params


def _int_param(params: dict, key: str, minimum: int) -> int | None:
    text = params.get(key)
    if text is None:
        return None
    if not re.fullmatch(r"[+-]?\d+", text.strip()):
        raise ApiError(HTTPStatus.BAD_REQUEST, f"{key} must be an integer, got {text!r}")
    value = int(text)
    if value < minimum:
        raise ApiError(HTTPStatus.BAD_REQUEST, f"{key} must be >= {minimum}, got {value}")
    return value


def _false_only(params: dict, key: str) -> None:
    """A boolean Studio option evalcore's files always answer as ``false``."""
    text = params.get(key)
    if text is None or text.lower() == "false":
        return
    if text.lower() == "true":
        raise ApiError(HTTPStatus.BAD_REQUEST, f"{key}=true is not supported by evalcore serve")
    raise ApiError(HTTPStatus.BAD_REQUEST, f"{key} must be true or false, got {text!r}")


def _check_common(params: dict) -> tuple[str | None, str]:
    variant = params.get("variant")
    if variant is not None and variant not in VARIANTS:
        raise ApiError(HTTPStatus.BAD_REQUEST, f"variant must be one of {', '.join(VARIANTS)}, got {variant!r}")
    _false_only(params, "truncateStructuredLabels")
    _false_only(params, "featureExplorerOnly")
    category = params.get("category", "testing")  # Studio's default
    if category not in _CATEGORIES:
        raise ApiError(HTTPStatus.BAD_REQUEST, f"category must be one of {', '.join(_CATEGORIES)}, got {category!r}")
    if "impulseId" in params:
        raise ApiError(HTTPStatus.BAD_REQUEST, "impulseId is not supported: the served folder holds one impulse's results per project")
    return variant, category


def _project_id(text: str) -> int:
    if not re.fullmatch(r"\d{1,18}", text):
        raise ApiError(HTTPStatus.BAD_REQUEST, f"projectId must be a positive integer, got {text!r}")
    return int(text)


def answer(store: ResultStore, target: str) -> bytes:
    """The body of a successful GET of ``target`` (path and query); ApiError otherwise."""
    parts = urlsplit(target)
    path = unquote(parts.path)
    segments = path.split("/")
    if any(s in ("..", ".") for s in segments) or "\\" in path or "\x00" in path:
        raise ApiError(HTTPStatus.FORBIDDEN, f"refused: {path!r} leaves the served folder")
    route = _ROUTE.match(path)
    if route is None:
        raise ApiError(HTTPStatus.NOT_FOUND, f"no such endpoint: {path} (evalcore serve answers "
                       "/v1/api/{projectId}/classify/all/result and .../result/page)")
    project_id = _project_id(route["project"])
    if route["page"]:
        params = _query(parts.query, _PAGE_PARAMS)
        variant, category = _check_common(params)
        limit = _int_param(params, "limit", 1)
        offset = _int_param(params, "offset", 0) or 0
        file = store.locate(project_id, variant, category)
        loaded = store.load(file)
        return page_json(loaded.response, offset, limit, loaded.by_sample)
    params = _query(parts.query, _FULL_PARAMS)
    variant, category = _check_common(params)
    return store.read_bytes(store.locate(project_id, variant, category))


class _Handler(BaseHTTPRequestHandler):
    server_version = "evalcore-serve"
    protocol_version = "HTTP/1.1"
    store: ResultStore
    api_key: str | None = None
    log_requests = True

    def do_GET(self):  # noqa: N802 (http.server's naming)
        self._respond(head=False)

    def do_HEAD(self):  # noqa: N802
        self._respond(head=True)

    def _not_allowed(self):
        # The request body is not read: close the connection rather than parse it as a request.
        self.close_connection = True
        message = f"method {self.command} is not allowed: evalcore serve is read-only (GET, HEAD)"
        self._send(HTTPStatus.METHOD_NOT_ALLOWED, error_json(message), head=False,
                   extra={"Allow": "GET, HEAD", "Connection": "close"})

    do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _not_allowed  # noqa: N815

    def _respond(self, *, head: bool):
        try:
            self._check_key()
            status, body = HTTPStatus.OK, answer(self.store, self.path)
        except ApiError as err:
            status, body = err.status, error_json(err.message)
        except Exception:  # a bug: its traceback on stderr, and the client still gets an answer
            traceback.print_exc()
            status, body = HTTPStatus.INTERNAL_SERVER_ERROR, error_json("internal error in evalcore serve (a bug)")
        self._send(status, body, head=head)

    def _check_key(self):
        if self.api_key is None:
            return
        given = self.headers.get(API_KEY_HEADER, "")
        if not hmac.compare_digest(given.encode("utf-8"), self.api_key.encode("utf-8")):
            raise ApiError(HTTPStatus.UNAUTHORIZED, f"missing or wrong {API_KEY_HEADER} header")

    def _send(self, status: int, body: bytes, *, head: bool, extra: dict | None = None):
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        for key, value in (extra or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def log_message(self, format, *args):  # noqa: A002 (http.server's signature)
        if self.log_requests:
            super().log_message(format, *args)


class _Ipv6Server(ThreadingHTTPServer):
    address_family = socket.AF_INET6


def make_server(root, *, host: str = "127.0.0.1", port: int = 0, api_key: str | None = None,
                log_requests: bool = True) -> ThreadingHTTPServer:
    """A bound, not yet serving server of ``root``'s results (``port`` 0: any free port)."""
    if not 0 <= port <= 65535:
        raise ConfigError(f"serve: --port must be 0..65535, got {port}")
    store = ResultStore(root)
    handler = type("Handler", (_Handler,), {"store": store, "api_key": api_key, "log_requests": log_requests})
    server_class = _Ipv6Server if ":" in host else ThreadingHTTPServer
    try:
        server = server_class((host, port), handler)
    except OSError as err:
        raise ConfigError(f"serve: cannot listen on {host} port {port}: {err.strerror or err}") from err
    server.daemon_threads = True
    return server


def read_api_key(path) -> str:
    """The API key in ``path`` (surrounding whitespace removed); ConfigError when unreadable or empty."""
    try:
        key = Path(path).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"serve: cannot read --api-key-file {path}: {err}") from err
    if not key:
        raise ConfigError(f"serve: --api-key-file {path} is empty")
    return key


def url_of(server: ThreadingHTTPServer) -> str:
    """``http://host:port/v1``: the base URL the clients take (their default is Studio's ``.../v1``)."""
    host, port = server.server_address[:2]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/v1"


def serve_forever(root, *, host: str, port: int, api_key_file=None) -> None:
    """Serve until interrupted (Ctrl-C raises KeyboardInterrupt; the socket is closed first)."""
    api_key = None if api_key_file is None else read_api_key(api_key_file)
    server = make_server(root, host=host, port=port, api_key=api_key)
    try:
        sys.stdout.write(f"evalcore serve: {url_of(server)} serving {server.RequestHandlerClass.store.root}\n")
        sys.stdout.flush()
        if host not in ("127.0.0.1", "localhost", "::1"):
            sys.stderr.write(f"evalcore serve: warning: listening on {host}, reachable from other machines\n")
        server.serve_forever()
    finally:
        server.server_close()

