"""A stand-in Studio for ``evalcore pull`` tests: a real HTTP server on loopback serving a fixture bundle.

It answers the routes the official ``edgeimpulse-api`` client calls (paths under ``/v1/api/{projectId}``),
with bodies built from a bundle folder: ``impulse.json``, ``dsp/<id>.json``, the learn blocks'
``metadata.json`` / ``gmm.json``, ``/downloads`` listing each model file, the model files, the
raw-data listing (from ``dataset/info.labels``; sample ids are 1-based positions there, as evalcore
numbers them) and each sample's file, and ``classify/all/result`` (+ page) from a given body.

Like Studio it checks the ``x-api-key`` header (401 otherwise), answers 404 for another project,
sends ETags and answers ``If-None-Match`` with 304. Tests inject faults per route prefix
(``faults["raw-data/3/raw"] = ["429", "drop"]``: consumed in order; ``drop`` closes the socket
without an answer) and read ``log`` (every request: path and status) to count what a pull fetched.
"""

from __future__ import annotations

import hashlib
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

_MODEL_DOWNLOADS = {
    "model.onnx": ("onnx-float32", "ONNX model (float32)"),
    "model_int8.onnx": ("onnx-int8", "ONNX model (int8 quantized)"),
    "model.tflite": ("tflite-float32", "TensorFlow Lite (float32)"),
    "model_quantized_int8_io.tflite": ("tflite-int8", "TensorFlow Lite (int8 quantized)"),
    "akida_model.fbz": ("akida", "BrainChip Akida model"),
}
_CONTENT_TYPES = {".cbor": "application/cbor", ".json": "application/json", ".wav": "audio/wav",
                  ".jpg": "image/jpeg", ".png": "image/png"}


class StandinStudio:
    """Serve ``bundle`` as project ``project_id`` to clients holding ``api_key``; use as a context manager."""

    def __init__(self, bundle: Path, *, project_id: int, api_key: str, classify_result: bytes | None = None,
                 send_filenames: bool = True) -> None:
        self.bundle = Path(bundle)
        self.project_id = project_id
        self.api_key = api_key
        self.classify_result = classify_result
        self.send_filenames = send_filenames
        self.faults: dict[str, list[str]] = {}
        self.log: list[tuple[str, int]] = []
        self._lock = threading.Lock()
        info = json.loads((self.bundle / "dataset" / "info.labels").read_text(encoding="utf-8"))
        self.samples = [dict(entry, id=i) for i, entry in enumerate(info["files"], 1)]
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def host(self) -> str:
        """The base URL to give the client (``Configuration(host=...)``)."""
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def __enter__(self) -> StandinStudio:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()

    def bodies_sent(self, prefix: str) -> int:
        """How many 200 answers went to paths starting with ``prefix`` (after ``/v1/api/{id}/``)."""
        head = f"/v1/api/{self.project_id}/{prefix}"
        return sum(1 for path, status in self.log if path.startswith(head) and status == 200)

    # ------------------------------------------------------------------ routing

    def _route(self, path: str, query: dict) -> tuple[bytes, str, dict] | None:
        """(body, content type, extra headers) for a project-relative path, or None (404)."""
        b = self.bundle
        parts = path.strip("/").split("/")
        json_file = None
        if parts == ["impulse"]:
            json_file = b / "impulse.json"
        elif len(parts) == 2 and parts[0] == "dsp":
            json_file = b / "dsp" / f"{parts[1]}.json"
        elif len(parts) == 4 and parts[:2] == ["training", "keras"] and parts[3] == "metadata":
            json_file = b / "learn" / parts[2] / "metadata.json"
        elif len(parts) == 4 and parts[:2] == ["training", "anomaly"] and parts[3] == "metadata":
            json_file = b / "learn" / parts[2] / "metadata.json"
        elif parts[:2] == ["training", "anomaly"] and parts[3:] == ["gmm", "metadata"]:
            json_file = b / "learn" / parts[2] / "gmm.json"
        if json_file is not None:
            return (json_file.read_bytes(), "application/json", {}) if json_file.is_file() else None
        if parts == ["downloads"]:
            return self._json({"success": True, "downloads": self._downloads()})
        if len(parts) == 4 and parts[0] == "learn-data" and parts[2] == "model":
            for name, (dl_id, _) in _MODEL_DOWNLOADS.items():
                f = b / "learn" / parts[1] / name
                if dl_id == parts[3] and f.is_file():
                    return f.read_bytes(), "application/octet-stream", {
                        "Content-Disposition": f'attachment; filename="ei-standin-{parts[1]}-{dl_id}"'}
            return None
        if parts == ["raw-data"]:
            return self._listing(query)
        if len(parts) == 3 and parts[0] == "raw-data" and parts[2] == "raw":
            return self._raw(int(parts[1]))
        if parts == ["classify", "all", "result"] and self.classify_result is not None:
            return self.classify_result, "application/json", {}
        if parts == ["classify", "all", "result", "page"] and self.classify_result is not None:
            return self._page(query)
        return None

    @staticmethod
    def _json(doc) -> tuple[bytes, str, dict]:
        return json.dumps(doc).encode("utf-8"), "application/json", {}

    def _downloads(self) -> list[dict]:
        out = []
        for folder in sorted((self.bundle / "learn").iterdir()):
            for name, (dl_id, title) in _MODEL_DOWNLOADS.items():
                f = folder / name
                if f.is_file():
                    out.append({"id": dl_id, "name": title, "type": title, "size": str(f.stat().st_size),
                                "link": f"/v1/api/{self.project_id}/learn-data/{folder.name}/model/{dl_id}"})
        out.append({"id": "export", "name": "Dataset export", "type": "zip", "link": f"/v1/api/{self.project_id}/export"})
        return out

    def _sample_json(self, entry: dict) -> dict:
        data = (self.bundle / "dataset" / entry["path"]).read_bytes()
        label = entry["label"]
        sample = {"id": entry["id"], "filename": entry.get("name") or Path(entry["path"]).stem,
                  "category": entry["category"], "label": label.get("label", ""),
                  "sha256Hash": hashlib.sha256(data).hexdigest(), "created": "2026-01-01T00:00:00.000Z",
                  "boundingBoxes": entry.get("boundingBoxes", [])}
        if label["type"] == "multi-label":
            sample["structuredLabels"] = label["labels"]
            sample["label"] = ""
        if "metadata" in entry:
            sample["metadata"] = entry["metadata"]
        return sample

    def _listing(self, query: dict) -> tuple[bytes, str, dict]:
        category = query.get("category", ["testing"])[0]
        limit = int(query.get("limit", ["20"])[0])
        offset = int(query.get("offset", ["0"])[0])
        mine = [s for s in self.samples if s["category"] == category]
        page = [self._sample_json(s) for s in mine[offset:offset + limit]]
        return self._json({"success": True, "samples": page, "totalCount": len(mine)})

    def _raw(self, sample_id: int):
        entry = next((s for s in self.samples if s["id"] == sample_id), None)
        if entry is None:
            return None
        path = self.bundle / "dataset" / entry["path"]
        headers = {"Content-Disposition": f'attachment; filename="{path.name}"'} if self.send_filenames else {}
        return path.read_bytes(), _CONTENT_TYPES.get(path.suffix, "application/octet-stream"), headers

    def _page(self, query: dict):
        doc = json.loads(self.classify_result)
        limit = int(query.get("limit", ["20"])[0])
        offset = int(query.get("offset", ["0"])[0])
        rows = doc["result"][offset:offset + limit]
        ids = {r["sampleId"] for r in rows}
        return self._json({"success": True, "result": rows,
                           "predictions": [p for p in doc.get("predictions", []) if p["sampleId"] in ids],
                           "totalCount": len(doc["result"])})

    # ------------------------------------------------------------------ HTTP

    def _handler(self):
        studio = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # quiet
                pass

            def _send(self, status: int, body: bytes, ctype: str = "application/json", headers=None):
                with studio._lock:
                    studio.log.append((urlparse(self.path).path, status))
                self.send_response(status)
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                if status != 304:
                    self.send_header("Content-Type", ctype)
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if status != 304:
                    self.wfile.write(body)

            def _error(self, status: int, message: str, headers=None):
                self._send(status, json.dumps({"success": False, "error": message}).encode(), headers=headers)

            def do_GET(self):  # noqa: N802
                url = urlparse(self.path)
                prefix = f"/v1/api/{studio.project_id}/"
                rel = url.path[len(prefix):] if url.path.startswith(prefix) else None
                fault = None
                with studio._lock:
                    for key, queue in studio.faults.items():
                        if rel is not None and rel.startswith(key) and queue:
                            fault = queue.pop(0)
                            break
                if fault == "drop":
                    with studio._lock:
                        studio.log.append((url.path, 0))
                    self.close_connection = True
                    self.connection.close()
                    return
                if self.headers.get("x-api-key") != studio.api_key:
                    return self._error(401, "Invalid API key")
                if fault == "429":
                    return self._error(429, "Too many requests", {"Retry-After": "2"})
                if fault == "500":
                    return self._error(500, "Internal server error")
                if rel is None:
                    return self._error(404, "Project not found")
                found = studio._route(rel, parse_qs(url.query))
                if found is None:
                    return self._error(404, f"No such resource: {rel}")
                body, ctype, headers = found
                etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
                if self.headers.get("If-None-Match") == etag:
                    return self._send(304, b"", headers={"ETag": etag})
                self._send(200, body, ctype, dict(headers, ETag=etag))

        return Handler
