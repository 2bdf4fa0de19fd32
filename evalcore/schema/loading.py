# Loaders for the edgeimpulse-api 1.96.3 bodies: ClassifyJobResponse, ClassifyJobResponsePage,
# GetSampleDspResponse (reading mode), and the shared path-reporting validation the input loaders
# use.
"""Read API bodies from JSON text, bytes, a file or a dict, with errors that name the JSON path.

Every failure raises `evalcore.errors.BundleError` whose ``field`` is the JSON path of the bad
value (``result[0].classifications[0].thresholds[0].value``) and whose ``path`` is the file,
when known.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ValidationError
from pydantic.alias_generators import to_camel

from evalcore.errors import BundleError
from evalcore.schema._base import ReadMode

__all__ = [
    "load_body",
    "load_input_body",
    "read_json",
    "load_classify_job_response",
    "load_classify_job_response_page",
    "load_get_sample_dsp_response",
]

ModelT = TypeVar("ModelT", bound=BaseModel)

_MAX_SHOWN_CHARS = 60


def read_json(data: Any, *, what: str, path: Any = None) -> tuple[Any, Any]:
    """Parse ``data`` into Python objects unless it already is a dict (or list).

    Parameters
    ----------
    data : bytes, bytearray, str, os.PathLike, dict or list
        JSON text, a JSON file, or already parsed JSON.
    what : str
        Name of the body for error messages (``"impulse"``).
    path : str or os.PathLike, optional
        File named in error messages; defaults to ``data`` when that is a path.

    Returns
    -------
    tuple
        ``(parsed, path)``.

    Raises
    ------
    BundleError
        The file cannot be read or is not valid JSON.
    TypeError
        ``data`` is of another type.
    """
    if isinstance(data, os.PathLike):
        path = data if path is None else path
        try:
            data = Path(data).read_bytes()
        except OSError as err:
            raise BundleError(f"cannot read {what}: {err.strerror or err}", path=path) from err
    if isinstance(data, (dict, list)):
        return data, path
    if not isinstance(data, (bytes, bytearray, memoryview, str)):
        raise TypeError(f"{what} must be json text, bytes, a path or a dict, got {type(data)}")
    try:
        return json.loads(bytes(data) if isinstance(data, memoryview) else data), path
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise BundleError(f"{what} is not valid json: {err}", path=path) from err
    except RecursionError as err:  # thousands of nested arrays or objects
        raise BundleError(f"{what} is not valid json: nested too deeply", path=path) from err


def load_body(
    model: type[ModelT],
    data: Any,
    *,
    what: str,
    path: Any = None,
    context: Any = None,
) -> ModelT:
    """Validate ``data`` as ``model``; raise `BundleError` naming the JSON path on failure.

    Parameters
    ----------
    model : pydantic model class
        The body's model.
    data : bytes, str, os.PathLike, dict
        See `read_json`. JSON text is validated by pydantic's own parser (faster for big bodies).
    what : str
        Name of the body for error messages.
    path : str or os.PathLike, optional
        File name for error messages.
    context : object, optional
        Validation context, e.g. `evalcore.schema.READ_MODE`.

    Returns
    -------
    model instance
    """
    if isinstance(data, os.PathLike):
        path = data if path is None else path
        try:
            data = Path(data).read_bytes()
        except OSError as err:
            raise BundleError(f"cannot read {what}: {err.strerror or err}", path=path) from err
    if isinstance(data, memoryview):
        data = bytes(data)
    if not isinstance(data, (bytes, bytearray, str, dict, list)):
        raise TypeError(f"{what} must be json text, bytes, a path or a dict, got {type(data)}")
    try:
        if isinstance(data, (dict, list)):
            return model.model_validate(data, context=context)
        return model.model_validate_json(data, context=context)
    except ValidationError as err:
        if isinstance(data, (dict, list)):
            parsed = data
        else:
            # JSON syntax errors surface here too; read_json reports them with line and column.
            parsed = read_json(data, what=what, path=path)[0]
        raise _to_bundle_error(err, parsed, what=what, path=path) from err


def load_input_body(model: type[ModelT], data: Any, *, what: str, path: Any = None) -> ModelT:
    """Read an input body (impulse, DSP config, metadata) that may carry ``success: false``.

    A body with ``"success": false`` raises `BundleError` quoting its ``error`` text before
    any field is checked (a failed request has no other fields). Otherwise as `load_body`.
    """
    parsed, path = read_json(data, what=what, path=path)
    if isinstance(parsed, dict) and parsed.get("success") is False:
        error = parsed.get("error")
        raise BundleError(f"{what} reports a failure: {error or 'no error text'}",
                          path=path, field="success")
    return load_body(model, parsed, what=what, path=path)


def json_path(loc: tuple, data: Any, *, missing_on_write: bool = False) -> str:
    """Turn a pydantic error location into a JSON path, following the input data.

    Location items that are not keys of the data at that point (union member names, tags,
    validator names) are skipped. A trailing missing key is kept; for a field required only on
    writing it is given in its camelCase JSON spelling.
    """
    parts: list[str] = []
    node = data
    last = len(loc) - 1
    for position, item in enumerate(loc):
        if type(item) is int and isinstance(node, list) and 0 <= item < len(node):
            parts.append(f"[{item}]")
            node = node[item]
        elif type(item) is str and isinstance(node, dict) and item in node:
            parts.append(_key_step(item, bool(parts)))
            node = node[item]
        elif position == last and type(item) is str and isinstance(node, dict):
            parts.append(_key_step(to_camel(item) if missing_on_write else item, bool(parts)))
    return "".join(parts) or "$"


def _key_step(key: str, has_parent: bool) -> str:
    if key.isidentifier():
        return f".{key}" if has_parent else key
    return f"[{json.dumps(key, ensure_ascii=False)}]"


def _shown(value: Any) -> str:
    try:
        text = json.dumps(value, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= _MAX_SHOWN_CHARS else text[: _MAX_SHOWN_CHARS - 3] + "..."


def _describe(error: dict) -> str:
    kind = error["type"]
    if kind in ("missing", "missing_on_write"):
        return "missing required field"
    if kind == "extra_forbidden":
        return "unknown field (not in edgeimpulse-api 1.96.3)"
    message = error["msg"].removeprefix("Value error, ")
    message = message[:1].lower() + message[1:]
    if isinstance(error.get("input"), (dict, list)):
        # A whole object or array failed a model-level check; the message says what is wrong.
        return message
    return f"{message}, got {_shown(error.get('input'))}"


def _to_bundle_error(err: ValidationError, data: Any, *, what: str, path: Any) -> BundleError:
    errors = err.errors(include_url=False)
    paths: list[str] = []
    for error in errors:
        where = json_path(error["loc"], data, missing_on_write=error["type"] == "missing_on_write")
        if where not in paths:
            paths.append(where)
    first = errors[0]
    message = f"invalid {what}: {_describe(first)}"
    if len(paths) > 1:
        message += f" (and {len(paths) - 1} more invalid field{'s' if len(paths) > 2 else ''})"
    return BundleError(message, path=path, field=paths[0])


def _read_mode(unknown_keys: Literal["error", "ignore"]) -> ReadMode:
    if unknown_keys not in ("error", "ignore"):
        raise ValueError(f"unknown_keys must be 'error' or 'ignore', got {unknown_keys!r}")
    return ReadMode(unknown_keys=unknown_keys)


def load_classify_job_response(
    data: Any, *, path: Any = None, unknown_keys: Literal["error", "ignore"] = "error"
):
    """Read a Studio ``ClassifyJobResponse`` (``GET .../classify/all/result``) in reading mode.

    Parameters
    ----------
    data : bytes, str, os.PathLike or dict
        The response body: JSON text, a file holding it, or the parsed dict.
    path : str or os.PathLike, optional
        File name for error messages (defaults to ``data`` when it is a path).
    unknown_keys : {"error", "ignore"}, default="error"
        Whether a key 1.96.3 does not define is an error or dropped.

    Returns
    -------
    ClassifyJobResponse
        Unknown enum values and missing fields of older Studio generations are kept as read
        (see `evalcore.schema._base`), so ``jsonio.dumps`` writes the same JSON back.

    Raises
    ------
    BundleError
        The body is not valid JSON or not a valid response; ``field`` is the JSON path.

    Examples
    --------
    >>> response = load_classify_job_response(Path("studio/classify-result.json"))  # doctest: +SKIP
    """
    from evalcore.schema.classify_job import ClassifyJobResponse

    return load_body(ClassifyJobResponse, data, what="classify job response", path=path,
                     context=_read_mode(unknown_keys))


def load_classify_job_response_page(
    data: Any, *, path: Any = None, unknown_keys: Literal["error", "ignore"] = "error"
):
    """Read a Studio ``ClassifyJobResponsePage`` (reading mode, as `load_classify_job_response`)."""
    from evalcore.schema.classify_job import ClassifyJobResponsePage

    return load_body(ClassifyJobResponsePage, data, what="classify job response page",
                     path=path, context=_read_mode(unknown_keys))


def load_get_sample_dsp_response(
    data: Any, *, path: Any = None, unknown_keys: Literal["error", "ignore"] = "error"
):
    """Read a Studio ``GetSampleDspResponse`` in reading mode (see `load_classify_job_response`)."""
    from evalcore.schema.raw_sample import GetSampleDspResponse

    return load_body(GetSampleDspResponse, data, what="sample window response", path=path,
                     context=_read_mode(unknown_keys))
