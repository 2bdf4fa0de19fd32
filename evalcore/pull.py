"""``evalcore pull``: build a bundle (and fetch Studio's own result) from an Edge Impulse project.

Every request goes through Edge Impulse's official Python client (``edgeimpulse-api``, the
``studio`` extra), always on its raw-response path (``_preload_content=False``): bodies are saved
byte for byte as the server sent them, never re-serialised from the client's models (which fail
on some real bodies, e.g. ``BlockThresholdValue``). What is fetched, and where it lands:

- ``impulse.json``: ``ImpulseApi.get_impulse``; ``dsp/<id>.json``: ``DSPApi.get_dsp_config``;
- ``learn/<id>/metadata.json``: ``LearnApi.get_keras_metadata`` (Keras blocks) or
  ``get_anomaly_metadata`` (K-means / GMM); ``learn/<id>/gmm.json``: ``get_gmm_metadata``;
- model files: ``ProjectsApi.list_downloads`` lists them, ``LearnApi.download_learn_model``
  fetches the chosen ones, saved under the names ``run`` looks for (``bundle.MODEL_FILE_NAMES``);
- ``dataset/``: ``RawDataApi.list_samples`` per category (paged) and ``get_sample_as_raw`` per
  sample, written as an Edge Impulse dataset export: the files under ``<category>/`` and an
  ``info.labels`` built from the listing (name, category, label or structured labels, metadata,
  bounding boxes);
- ``studio/classify-result.json`` (``--with-result``): ``ClassifyApi.get_classify_job_result``,
  and with ``result_page_size`` its pages (``get_classify_job_result_page``) as
  ``studio/classify-result/page-K.json``.

Safety. The bundle is built in a staging folder next to ``--out`` (``.<name>.pull-staging``,
hidden, holding ``.evalcore-pull.json`` with ``"complete": false``) and renamed to ``--out`` only
when everything arrived, so a failed pull never leaves a half bundle at ``--out``; the staging
folder is kept and the next pull resumes from it. Each file lands atomically (temp + rename). A
second pull starts from the bundle's files (hard links) and fetches only what is missing or
changed: JSON bodies and models are asked for with ``If-None-Match`` (the ETag recorded in the
manifest; 304 = unchanged), samples are skipped when the listing's ``sha256Hash`` matches the
file already there. The manifest records sizes, SHA-256 and ETags; the API key is never written
anywhere, nor printed.

Errors: 401, 403, 404 and any other 4xx give one line naming the request; 429 and 5xx are
retried (``Retry-After`` honoured, capped; else exponential back-off), as is a dropped connection,
a bounded number of times, then one line. All are ``PullError`` (exit 2).
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import json
import os
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from evalcore.errors import ConfigError, EvalcoreError

__all__ = [
    "API_KEY_ENV",
    "DEFAULT_HOST",
    "MANIFEST_NAME",
    "PullError",
    "PullOptions",
    "PullReport",
    "choose_model_files",
    "pull_project",
    "read_api_key",
    "staging_dir",
]

API_KEY_ENV = "EI_API_KEY"
DEFAULT_HOST = "https://studio.edgeimpulse.com/v1"
MANIFEST_NAME = ".evalcore-pull.json"
_CATEGORIES = ("testing", "training", "validation")
_VARIANTS = ("float32", "int8", "akida")
_CHUNK = 1 << 16
_LIST_PAGE = 1000
_sleep = time.sleep

#: (variant, format) -> the file name ``run`` finds it under (first of ``bundle.MODEL_FILE_NAMES``).
_MODEL_NAMES = {
    ("float32", "onnx"): "model.onnx",
    ("float32", "tflite"): "model.tflite",
    ("int8", "onnx"): "model_int8.onnx",
    ("int8", "tflite"): "model_quantized_int8_io.tflite",
    ("akida", "akida"): "akida_model.fbz",
}
#: Model formats in the order ``run`` prefers them, with the module that executes each.
_FORMAT_RUNTIMES = (("onnx", "onnxruntime", "evalcore"), ("tflite", "ai_edge_litert", "evalcore[tflite]"),
                    ("akida", "akida", "evalcore[akida]"))
_CONTENT_TYPE_EXT = {
    "application/cbor": ".cbor",
    "application/json": ".json",
    "audio/wav": ".wav",
    "audio/x-wav": ".wav",
    "audio/wave": ".wav",
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/bmp": ".bmp",
}


class PullError(EvalcoreError, RuntimeError):
    """A request to Studio failed (HTTP error, dropped connection) or its answer is unusable."""


@dataclass
class PullOptions:
    """What to pull and how hard to try.

    ``variants`` None = every variant Studio has a model file for; ``categories`` the dataset
    categories, in the order their samples are listed in ``info.labels`` (a sample's id in a run
    is its position there). ``sleep`` (default ``time.sleep``) is injectable so tests can see the
    back-off without waiting.
    """

    host: str = DEFAULT_HOST
    variants: tuple[str, ...] | None = None
    categories: tuple[str, ...] = ("testing",)
    with_result: bool = False
    result_page_size: int | None = None
    max_attempts: int = 5
    backoff_s: float = 1.0
    max_wait_s: float = 60.0
    timeout_s: tuple[float, float] = (10.0, 120.0)
    sleep: Callable[[float], None] | None = None
    log: Callable[[str], None] | None = None


@dataclass
class PullReport:
    """What one pull did: files fetched and files found unchanged, the model choice line."""

    out: Path
    fetched: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    models_line: str = ""

    def summary_line(self) -> str:
        """``pulled ... into OUT: N files (F fetched, U unchanged)``."""
        n = len(self.fetched) + len(self.unchanged)
        return f"pulled into {self.out}: {n} files ({len(self.fetched)} fetched, {len(self.unchanged)} unchanged)"


def read_api_key(key_file: str | None, environ=os.environ) -> str:
    """The API key from ``key_file`` (first line, stripped) or ``EI_API_KEY``; never echoed."""
    if key_file is not None:
        try:
            text = Path(key_file).read_text(encoding="utf-8")
        except OSError as err:
            raise ConfigError(f"cannot read the API key file: {err.strerror} ({key_file})") from None
        except UnicodeDecodeError:
            raise ConfigError(f"the API key file is not UTF-8 text ({key_file})") from None
        lines = text.strip().splitlines()
        key = lines[0].strip() if lines else ""
        if not key:
            raise ConfigError(f"the API key file is empty ({key_file})")
        return key
    key = environ.get(API_KEY_ENV, "").strip()
    if not key:
        raise ConfigError(f"no API key: set {API_KEY_ENV} or pass --api-key-file FILE")
    return key


def staging_dir(out: Path) -> Path:
    """The hidden staging folder next to ``out`` where a pull is built (and resumed)."""
    return out.parent / f".{out.name}.pull-staging"


# --------------------------------------------------------------------------- files and manifest


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


class _Manifest:
    """``.evalcore-pull.json``: per bundle file its size, SHA-256, ETag and request; never the key."""

    def __init__(self, root: Path, project_id: int) -> None:
        self.root = root
        self.project_id = project_id
        self.files: dict[str, dict] = {}
        self.samples: dict[str, str] = {}
        path = root / MANIFEST_NAME
        if path.is_file():
            try:
                raw = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                raw = {}
            if isinstance(raw, dict) and raw.get("project") == project_id:
                self.files = {k: v for k, v in (raw.get("files") or {}).items() if isinstance(v, dict)}
                self.samples = {str(k): v for k, v in (raw.get("samples") or {}).items() if isinstance(v, str)}

    def intact(self, rel: str) -> dict | None:
        """The record of ``rel`` when the file is there with the recorded size, else None."""
        rec = self.files.get(rel)
        path = self.root / rel
        if rec is None or not path.is_file() or path.stat().st_size != rec.get("size"):
            return None
        return rec

    def record(self, rel: str, *, size: int, sha256: str, etag: str | None, source: str) -> None:
        self.files[rel] = {"size": size, "sha256": sha256, "etag": etag, "source": source}

    def save(self, *, complete: bool) -> None:
        body = {"version": 1, "project": self.project_id, "complete": complete,
                "files": dict(sorted(self.files.items())), "samples": self.samples}
        _write_atomic(self.root / MANIFEST_NAME, (json.dumps(body, indent=1) + "\n").encode("utf-8"))


# --------------------------------------------------------------------------- requests


class _Fetcher:
    """Calls the client's ``*_with_http_info`` methods raw, with retries and one-line errors."""

    def __init__(self, api_key: str, opts: PullOptions) -> None:
        import edgeimpulse_api as ei
        import urllib3

        self.opts = opts
        self._urllib3 = urllib3
        self._exc = ei.exceptions.ApiException
        conf = ei.Configuration(host=opts.host.rstrip("/"))
        conf.api_key["ApiKeyAuthentication"] = api_key
        conf.retries = False  # retries are ours: bounded, Retry-After honoured, reported
        self.client = ei.ApiClient(conf)
        self.impulse = ei.ImpulseApi(self.client)
        self.dsp = ei.DSPApi(self.client)
        self.learn = ei.LearnApi(self.client)
        self.projects = ei.ProjectsApi(self.client)
        self.raw = ei.RawDataApi(self.client)
        self.classify = ei.ClassifyApi(self.client)

    def _sleep(self, seconds: float) -> None:
        (self.opts.sleep or _sleep)(seconds)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.client.close()

    def _wait(self, attempt: int, headers) -> float:
        retry_after = None
        if headers is not None:
            value = headers.get("Retry-After") if hasattr(headers, "get") else None
            if value is not None:
                with contextlib.suppress(ValueError):
                    retry_after = float(value)
        delay = retry_after if retry_after is not None and retry_after >= 0 else self.opts.backoff_s * 2 ** attempt
        return min(delay, self.opts.max_wait_s)

    def get(self, what: str, method, *args, etag: str | None = None, sink=None, **kwargs):
        """Call ``method`` raw; returns (status, headers, body bytes or None for 304 / sink).

        ``sink(response)`` streams the body itself (big files); otherwise the body is read whole.
        """
        headers = {"If-None-Match": etag} if etag else {}
        last = ""
        for attempt in range(self.opts.max_attempts):
            resp = None
            try:
                resp = method(*args, _preload_content=False, _request_timeout=self.opts.timeout_s,
                              _headers=headers, **kwargs)
                status, resp_headers = resp.status, resp.headers
                body = sink(resp) if sink is not None else resp.read()
                return status, resp_headers, body
            except self._exc as err:
                status = err.status
                if status == 304:
                    return 304, err.headers, None
                if status == 429 or (isinstance(status, int) and 500 <= status <= 599):
                    last = f"HTTP {status} {err.reason or ''}".rstrip()
                    if attempt + 1 < self.opts.max_attempts:
                        delay = self._wait(attempt, err.headers)
                        self._log(f"{what}: {last}, retrying in {delay:g} s")
                        self._sleep(delay)
                    continue
                raise PullError(self._http_message(what, status, err)) from None
            except (self._urllib3.exceptions.HTTPError, ConnectionError, TimeoutError) as err:
                last = f"connection failed ({_reason(err)})"
                if attempt + 1 < self.opts.max_attempts:
                    delay = self._wait(attempt, None)
                    self._log(f"{what}: {last}, retrying in {delay:g} s")
                    self._sleep(delay)
            finally:
                if resp is not None:
                    with contextlib.suppress(Exception):
                        resp.release_conn()
        raise PullError(f"{what}: {last}; gave up after {self.opts.max_attempts} attempts")

    def _http_message(self, what: str, status, err) -> str:
        detail = _server_error(err.body)
        hint = {
            401: "the API key was refused (EI_API_KEY or --api-key-file)",
            403: "the API key has no access to this project",
            404: "not found (wrong project id, or no such block or sample)",
        }.get(status, err.reason or "request failed")
        return f"{what}: HTTP {status}: {hint}" + (f" (Studio says: {detail})" if detail else "")

    def _log(self, line: str) -> None:
        if self.opts.log is not None:
            self.opts.log(line)


def _reason(err: BaseException) -> str:
    inner = getattr(err, "reason", None) or (err.args[-1] if getattr(err, "args", None) else None)
    text = type(inner).__name__ if isinstance(inner, BaseException) else type(err).__name__
    return "the server closed the connection" if "Disconnected" in text or "Protocol" in text else text


def _server_error(body) -> str:
    if not body:
        return ""
    try:
        data = json.loads(body)
    except (ValueError, TypeError):
        return ""
    error = data.get("error") if isinstance(data, dict) else None
    return str(error)[:200] if error else ""


def _json(body: bytes, what: str) -> dict:
    try:
        data = json.loads(body)
    except ValueError as err:
        raise PullError(f"{what}: the answer is not JSON ({err.msg} at byte {err.pos})") from None
    if not isinstance(data, dict):
        raise PullError(f"{what}: the answer is not a JSON object")
    if data.get("success") is False:
        raise PullError(f"{what}: Studio says: {str(data.get('error'))[:200]}")
    return data


# --------------------------------------------------------------------------- models


@dataclass(frozen=True)
class ModelDownload:
    """One learn-block model file Studio offers: from ``list_downloads``."""

    learn_id: int
    download_id: str
    variant: str
    format: str
    name: str


def _classify_download(entry: dict) -> ModelDownload | None:
    link = str(entry.get("link", ""))
    m = re.search(r"/learn-data/(\d+)/model/([^/?#]+)", link)
    if m is None:
        return None
    text = " ".join(str(entry.get(k, "")) for k in ("id", "name", "type", "link")).lower()
    if "onnx" in text:
        fmt = "onnx"
    elif "akida" in text or "fbz" in text:
        fmt = "akida"
    elif "tflite" in text or "tensorflow lite" in text or ".lite" in text:
        fmt = "tflite"
    else:
        return None  # SavedModel, Keras h5, ... : nothing run executes
    if fmt == "akida":
        variant = "akida"
    elif "int8" in text or "quantized" in text:
        variant = "int8"
    else:
        variant = "float32"
    return ModelDownload(int(m.group(1)), m.group(2), variant, fmt, str(entry.get("name", m.group(2))))


def _runtime_here(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def choose_model_files(downloads: list[dict], learn_ids: list[int], variants: tuple[str, ...] | None,
                       runtime_here: Callable[[str], bool] = _runtime_here) -> tuple[list[ModelDownload], str]:
    """Per learn block and variant the one file to fetch, preferring a format ``run`` can execute here.

    Returns the chosen downloads and one line saying what was chosen (and what could not run here).
    """
    found = [d for d in (_classify_download(e) for e in downloads if isinstance(e, dict)) if d is not None]
    chosen: list[ModelDownload] = []
    parts: list[str] = []
    for learn_id in learn_ids:
        mine = [d for d in found if d.learn_id == learn_id]
        wanted = variants if variants is not None else tuple(v for v in _VARIANTS if any(d.variant == v for d in mine))
        picks = []
        for variant in wanted:
            options = [d for d in mine if d.variant == variant]
            if not options:
                picks.append(f"{variant} none offered")
                continue
            ranked = sorted(options, key=lambda d: [f for f, _, _ in _FORMAT_RUNTIMES].index(d.format))
            runnable = [d for d in ranked if runtime_here(_runtime_of(d.format))]
            pick = (runnable or ranked)[0]
            chosen.append(pick)
            note = "" if runnable else f" (cannot run here: pip install \"{_extra_of(pick.format)}\")"
            picks.append(f"{variant} {_MODEL_NAMES[(variant, pick.format)]}{note}")
        if picks:
            parts.append(f"learn block {learn_id}: " + ", ".join(picks))
    line = "models: " + ("; ".join(parts) if parts else "none offered")
    return chosen, line


def _runtime_of(fmt: str) -> str:
    return next(mod for f, mod, _ in _FORMAT_RUNTIMES if f == fmt)


def _extra_of(fmt: str) -> str:
    return next(extra for f, _, extra in _FORMAT_RUNTIMES if f == fmt)


# --------------------------------------------------------------------------- the pull


class _Pull:
    def __init__(self, project_id: int, stage: Path, fetcher: _Fetcher, opts: PullOptions, report: PullReport):
        self.pid = project_id
        self.stage = stage
        self.f = fetcher
        self.opts = opts
        self.report = report
        self.manifest = _Manifest(stage, project_id)
        self.keep: set[str] = set()
        self.listed: list[tuple[dict, str]] = []

    def log(self, line: str) -> None:
        if self.opts.log is not None:
            self.opts.log(line)

    # one JSON body, saved verbatim, asked for with If-None-Match
    def body(self, rel: str, source: str, method, *args, **kwargs) -> bytes:
        self.keep.add(rel)
        rec = self.manifest.intact(rel)
        etag = rec.get("etag") if rec else None
        status, headers, body = self.f.get(source, method, self.pid, *args, etag=etag, **kwargs)
        path = self.stage / rel
        if status == 304 and rec is not None:
            self.report.unchanged.append(rel)
            return path.read_bytes()
        _json(body, source)  # a JSON object, not Studio's {"success": false}: else nothing is written
        _write_atomic(path, body)
        self.manifest.record(rel, size=len(body), sha256=hashlib.sha256(body).hexdigest(),
                             etag=headers.get("ETag") if headers else None, source=source)
        self.report.fetched.append(rel)
        self.log(f"fetched {rel} ({len(body)} bytes)")
        return body

    # one big file, streamed to a temp file next to it, then renamed
    def stream(self, rel_for: Callable[[object], str], source: str, method, *args, etag=None, known_rel=None,
               announce: bool = True):
        holder = {}

        def sink(resp):
            rel = rel_for(resp)
            path = self.stage / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
            h, size = hashlib.sha256(), 0
            try:
                with os.fdopen(fd, "wb") as out:
                    for chunk in resp.stream(_CHUNK):
                        out.write(chunk)
                        h.update(chunk)
                        size += len(chunk)
                os.replace(tmp, path)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                raise
            holder.update(rel=rel, size=size, sha256=h.hexdigest())
            return b""

        status, headers, _ = self.f.get(source, method, self.pid, *args, etag=etag, sink=sink)
        if status == 304:
            self.report.unchanged.append(known_rel)
            self.keep.add(known_rel)
            return known_rel, self.manifest.files[known_rel]["sha256"]
        rel = holder["rel"]
        self.manifest.record(rel, size=holder["size"], sha256=holder["sha256"],
                             etag=headers.get("ETag") if headers else None, source=source)
        self.report.fetched.append(rel)
        self.keep.add(rel)
        if announce:
            self.log(f"fetched {rel} ({holder['size']} bytes)")
        return rel, holder["sha256"]

    def run(self) -> None:
        f = self.f
        impulse_doc = _json(self.body("impulse.json", "GET impulse", f.impulse._get_impulse_with_http_info),
                            "impulse.json")
        impulse = impulse_doc.get("impulse", impulse_doc)
        dsp_blocks = impulse.get("dspBlocks") or []
        learn_blocks = impulse.get("learnBlocks") or []
        for block in dsp_blocks:
            bid = _block_id(block, "dspBlocks")
            _json(self.body(f"dsp/{bid}.json", f"GET dsp/{bid}", f.dsp._get_dsp_config_with_http_info, bid),
                  f"dsp/{bid}.json")
        model_ids = []
        for block in learn_blocks:
            bid, btype = _block_id(block, "learnBlocks"), str(block.get("type", ""))
            meta = f"learn/{bid}/metadata.json"
            if btype in ("anomaly", "anomaly-gmm"):
                self.body(meta, f"GET training/anomaly/{bid}/metadata", f.learn._get_anomaly_metadata_with_http_info, bid)
                if btype == "anomaly-gmm":
                    self.body(f"learn/{bid}/gmm.json", f"GET training/anomaly/{bid}/gmm/metadata",
                              f.learn._get_gmm_metadata_with_http_info, bid)
            else:
                self.body(meta, f"GET training/keras/{bid}/metadata", f.learn._get_keras_metadata_with_http_info, bid)
                model_ids.append(bid)
        if model_ids:
            self.models(model_ids)
        for category in self.opts.categories:
            self.samples_of(category)
        self.write_labels()
        if self.opts.with_result:
            self.result()

    def models(self, learn_ids: list[int]) -> None:
        _, _, body = self.f.get("GET downloads", self.f.projects._list_downloads_with_http_info, self.pid)
        downloads = _json(body, "downloads").get("downloads") or []
        chosen, line = choose_model_files(downloads, learn_ids, self.opts.variants)
        self.report.models_line = line
        self.log(line)
        for d in chosen:
            rel = f"learn/{d.learn_id}/{_MODEL_NAMES[(d.variant, d.format)]}"
            rec = self.manifest.intact(rel)
            self.stream(lambda _resp, rel=rel: rel, f"GET learn-data/{d.learn_id}/model/{d.download_id}",
                        self.f.learn._download_learn_model_with_http_info, d.learn_id, d.download_id,
                        etag=rec.get("etag") if rec else None, known_rel=rel)

    def samples_of(self, category: str) -> None:
        listed: list[dict] = []
        offset = 0
        while True:
            what = f"GET raw-data?category={category}&offset={offset}"
            _, _, body = self.f.get(what, self.f.raw._list_samples_with_http_info, self.pid, category,
                                    limit=_LIST_PAGE, offset=offset)
            page = _json(body, what)
            samples = page.get("samples") or []
            listed.extend(s for s in samples if isinstance(s, dict))
            offset += len(samples)
            total = page.get("totalCount")
            if len(samples) < _LIST_PAGE or (isinstance(total, int) and offset >= total) or not samples:
                break
        used = {self.manifest.samples.get(str(s.get("id"))) for s in listed} - {None}
        for n, sample in enumerate(listed, 1):
            sid = sample.get("id")
            if not isinstance(sid, int):
                raise PullError(f"GET raw-data?category={category}: sample {n} has no integer id")
            rel = self.manifest.samples.get(str(sid))
            rec = self.manifest.intact(rel) if rel else None
            if rec is not None and sample.get("sha256Hash") and rec.get("sha256") == sample["sha256Hash"]:
                self.keep.add(rel)
                self.report.unchanged.append(rel)
            else:
                rel, _ = self.stream(lambda resp, s=sample: self._sample_path(resp, s, category, used),
                                     f"GET raw-data/{sid}/raw", self.f.raw._get_sample_as_raw_with_http_info, sid,
                                     etag=rec.get("etag") if rec else None, known_rel=rel, announce=False)
                self.manifest.samples[str(sid)] = rel
                used.add(rel)
            self.listed.append((sample, rel))
            if n % 25 == 0 or n == len(listed):
                self.manifest.save(complete=False)
                self.log(f"{category}: {n} of {len(listed)} samples")
        if not listed:
            self.log(f"{category}: no samples")

    def _sample_path(self, resp, sample: dict, category: str, used: set) -> str:
        name = _disposition_name(resp.headers.get("Content-Disposition", ""))
        if not name:
            ctype = (resp.headers.get("Content-Type") or "").split(";")[0].strip().lower()
            ext = _CONTENT_TYPE_EXT.get(ctype, ".bin")
            name = f"{sample.get('label') or 'unlabeled'}.{sample.get('filename') or sample['id']}{ext}"
        name = _safe_name(name)
        rel = f"dataset/{category}/{name}"
        if rel in used and self.manifest.samples.get(str(sample["id"])) != rel:
            stem, dot, ext = name.rpartition(".")
            rel = f"dataset/{category}/{stem or name}.{sample['id']}{dot}{ext if stem else ''}"
        return rel

    def write_labels(self) -> None:
        entries = [_info_entry(sample, rel[len("dataset/"):]) for sample, rel in self.listed]
        body = (json.dumps({"version": 1, "files": entries}, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
        rel = "dataset/info.labels"
        self.keep.add(rel)
        _write_atomic(self.stage / rel, body)
        self.manifest.record(rel, size=len(body), sha256=hashlib.sha256(body).hexdigest(), etag=None,
                             source="built from GET raw-data")

    def result(self) -> None:
        variant = self.opts.variants[0] if self.opts.variants else None
        category = self.opts.categories[0]
        kwargs = {"category": category}
        if variant is not None:
            kwargs["variant"] = variant
        self.body("studio/classify-result.json", "GET classify/all/result",
                  self.f.classify._get_classify_job_result_with_http_info, **kwargs)
        size = self.opts.result_page_size
        if not size:
            return
        page_kwargs = {k: v for k, v in kwargs.items()}
        k = 0
        while True:
            rel = f"studio/classify-result/page-{k}.json"
            body = self.body(rel, f"GET classify/all/result/page?offset={k * size}",
                             self.f.classify._get_classify_job_result_page_with_http_info,
                             limit=size, offset=k * size, **page_kwargs)
            page = _json(body, rel)
            total = page.get("totalCount")
            k += 1
            if not page.get("result") or not isinstance(total, int) or k * size >= total:
                break

    def prune(self) -> None:
        """Drop every staged file this pull did not keep (Studio no longer lists it, or a leftover)."""
        for path in sorted(self.stage.rglob("*"), reverse=True):
            rel = path.relative_to(self.stage).as_posix()
            if path.is_dir() and not path.is_symlink():
                with contextlib.suppress(OSError):
                    path.rmdir()  # only when empty
            elif rel != MANIFEST_NAME and rel not in self.keep:
                path.unlink()
        self.manifest.files = {k: v for k, v in self.manifest.files.items() if k in self.keep}
        kept = set(self.manifest.files)
        self.manifest.samples = {k: v for k, v in self.manifest.samples.items() if v in kept}


def _block_id(block, where: str) -> int:
    bid = block.get("id") if isinstance(block, dict) else None
    if not isinstance(bid, int) or isinstance(bid, bool) or bid < 0:
        raise PullError(f"impulse.json: impulse.{where}[].id must be a non-negative integer, got {bid!r}")
    return bid


def _disposition_name(value: str) -> str:
    m = re.search(r"filename\*=(?:UTF-8'')?([^;]+)", value, re.IGNORECASE)
    if m:
        from urllib.parse import unquote

        return unquote(m.group(1).strip().strip('"'))
    m = re.search(r'filename="?([^";]+)"?', value, re.IGNORECASE)
    return m.group(1).strip() if m else ""


def _safe_name(name: str) -> str:
    """A file name that stays in its folder: the last path part, no leading dot, no control chars."""
    base = re.split(r"[\\/]", name)[-1]
    base = "".join(c for c in base if c.isprintable()).lstrip(".").strip()
    return base or "sample.bin"


def _info_entry(sample: dict, path: str) -> dict:
    entry = {"path": path, "name": str(sample.get("filename", "")), "category": str(sample.get("category", ""))}
    structured = sample.get("structuredLabels")
    label = sample.get("label")
    if isinstance(structured, list) and structured:
        entry["label"] = {"type": "multi-label", "labels": [
            {k: s[k] for k in ("startIndex", "endIndex", "label", "labelMap") if k in s} for s in structured]}
    elif isinstance(label, str) and label:
        entry["label"] = {"type": "label", "label": label}
    else:
        entry["label"] = {"type": "unlabeled"}
    if isinstance(sample.get("metadata"), dict):
        entry["metadata"] = sample["metadata"]
    boxes = sample.get("boundingBoxes")
    if isinstance(boxes, list) and boxes:
        entry["boundingBoxes"] = [{k: b[k] for k in ("label", "x", "y", "width", "height") if k in b} for b in boxes]
    return entry


def _link_tree(src: Path, dst: Path) -> None:
    """Copy ``src`` into ``dst`` as hard links (a copy where links are not possible)."""
    for path in src.rglob("*"):
        if path.is_symlink() or not path.is_file():
            continue
        target = dst / path.relative_to(src)
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(path, target)
        except OSError:
            shutil.copy2(path, target)


def _manifest_project(folder: Path):
    try:
        return json.loads((folder / MANIFEST_NAME).read_text(encoding="utf-8")).get("project")
    except (OSError, ValueError, AttributeError):
        return None


def _prepare_stage(out: Path, project_id: int) -> Path:
    stage = staging_dir(out)
    if stage.exists():
        if not (stage / MANIFEST_NAME).is_file():
            raise ConfigError(f"{stage} exists but is not a pull's staging folder; remove it")
        if _manifest_project(stage) == project_id:
            return stage  # resume
        shutil.rmtree(stage)  # our staging folder, for another project: start again
    if out.exists():
        if not out.is_dir():
            raise ConfigError(f"--out {out} exists and is not a folder")
        manifest = out / MANIFEST_NAME
        if any(out.iterdir()) and not manifest.is_file():
            raise ConfigError(f"--out {out} is a non-empty folder that evalcore pull did not make; "
                              "choose a new folder")
        if manifest.is_file():
            stage.mkdir(parents=True)
            _link_tree(out, stage)
            return stage
    stage.mkdir(parents=True)
    _Manifest(stage, project_id).save(complete=False)
    return stage


def _publish(stage: Path, out: Path) -> None:
    """Rename the finished staging folder to ``out`` (an earlier bundle is swapped out, then removed)."""
    old = None
    if out.exists():
        old = out.parent / f".{out.name}.pull-old"
        if old.exists():
            shutil.rmtree(old)
        os.replace(out, old)
    os.replace(stage, out)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def pull_project(project_id: int, out: str | Path, api_key: str, opts: PullOptions | None = None) -> PullReport:
    """Pull project ``project_id`` into the bundle folder ``out``; see the module docstring."""
    opts = opts or PullOptions()
    for c in opts.categories:
        if c not in _CATEGORIES:
            raise ConfigError(f"--category must be one of {', '.join(_CATEGORIES)}, got {c!r}")
    if opts.variants is not None:
        for v in opts.variants:
            if v not in _VARIANTS:
                raise ConfigError(f"--variant must be one of {', '.join(_VARIANTS)}, got {v!r}")
    if opts.result_page_size is not None and opts.result_page_size < 1:
        raise ConfigError(f"--result-page-size must be >= 1, got {opts.result_page_size}")
    out = Path(out)
    if not out.parent.is_dir():
        raise ConfigError(f"--out {out}: the folder {out.parent} does not exist")
    fresh = not staging_dir(out).exists()
    stage = _prepare_stage(out, project_id)
    report = PullReport(out=out)
    fetcher = _Fetcher(api_key, opts)
    pull = _Pull(project_id, stage, fetcher, opts, report)
    existed = out.exists()
    try:
        pull.run()
    except BaseException as err:
        fetcher.close()
        state = f"{out} is unchanged" if existed else f"{out} was not created"
        if fresh and not pull.manifest.files:
            shutil.rmtree(stage, ignore_errors=True)  # nothing arrived: nothing to resume
            resume = ""
        else:
            pull.manifest.save(complete=False)
            resume = f"; the partial pull in {stage} is resumed by the same command"
        if isinstance(err, PullError):
            raise PullError(f"{err}; {state}{resume}") from None
        raise
    fetcher.close()
    pull.prune()
    pull.manifest.save(complete=True)
    _publish(stage, out)
    return report


def stderr_log(line: str) -> None:
    """Progress line on stderr."""
    sys.stderr.write(f"evalcore pull: {line}\n")
    sys.stderr.flush()
