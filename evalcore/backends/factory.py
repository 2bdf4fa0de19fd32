"""``load_backend``: pick the engine from the model file's extension and check the options.

The runtimes are imported only here, inside the call, so that importing evalcore (and
``evalcore --help``) never loads onnxruntime, LiteRT or akida.
"""

from __future__ import annotations

from pathlib import Path

from evalcore.backends.base import Backend
from evalcore.errors import ConfigError, ModelError

__all__ = ["load_backend", "VARIANTS", "ENGINE_BY_SUFFIX"]

VARIANTS = ("float32", "int8", "akida")
ENGINE_BY_SUFFIX = {".onnx": "onnxruntime", ".lite": "tflite", ".tflite": "tflite", ".fbz": "akida"}

_BATCHING = {"batch_size", "max_batch_elements", "batch_rewrite"}
_OPTIONS = {
    "onnxruntime": _BATCHING | {"quantization"},
    "tflite": _BATCHING | {"quantization", "xnnpack"},
    "akida": {"batch_size", "akida_device", "akida_softmax", "akida_input_scale",
              "akida_check_file"},
}


def load_backend(path, *, variant: str, threads: int = 1, **opts) -> Backend:
    """Load a model file once and return the backend that runs it.

    Parameters
    ----------
    path : str or os.PathLike
        ``.onnx`` (onnxruntime), ``.lite`` / ``.tflite`` (LiteRT) or ``.fbz`` (Akida).
    variant : {"float32", "int8", "akida"}
        The Studio model variant the file stands for; ``akida`` goes with ``.fbz`` only.
    threads : int, default 1
        Intra-op threads of the runtime (onnxruntime, LiteRT; Akida's software backend ignores it).
    **opts
        Engine options:

        - every engine: ``batch_size`` (int, default 1024 rows per call);
        - onnxruntime, tflite: ``max_batch_elements`` (int, default 2**16 input elements per
          call), ``batch_rewrite`` (bool, default True: batch fixed-batch-1 models after a probe),
          ``quantization`` (dict: fallback scale/zero point per integer tensor);
        - tflite: ``xnnpack`` (bool, default True);
        - akida: ``akida_device`` ("auto", "hardware" or "software", default "auto"),
          ``akida_softmax`` (bool, default True), ``akida_input_scale`` (float, default None =
          Edge Impulse's rule), ``akida_check_file`` (bool, default True: load the file in a
          child process first, as a corrupt .fbz can crash the runtime).

    Returns
    -------
    Backend

    Raises
    ------
    ConfigError
        Unknown variant, option or option value; variant and file type disagree.
    ModelError
        The file is missing, of an unknown type, or cannot be loaded.
    BackendUnavailableError
        The runtime for this file type is not installed (names the extra to install).

    Examples
    --------
    >>> backend = load_backend("model.onnx", variant="float32")  # doctest: +SKIP
    >>> backend.check_n_features(33)  # doctest: +SKIP
    >>> probabilities, = backend.run(features)  # doctest: +SKIP
    """
    path = Path(path)
    if variant not in VARIANTS:
        raise ConfigError(f"variant must be one of {', '.join(VARIANTS)}, got {variant!r}")
    suffix = path.suffix.lower()
    engine = ENGINE_BY_SUFFIX.get(suffix)
    if engine is None:
        raise ModelError(
            f"unsupported model file type {suffix or '(none)'}, expected one of "
            f"{', '.join(ENGINE_BY_SUFFIX)} ({path})"
        )
    if (engine == "akida") != (variant == "akida"):
        raise ConfigError(
            f"variant {variant} cannot run a {suffix} model: the akida variant is an akida .fbz "
            f"file and .fbz files are the akida variant ({path})"
        )
    if not path.is_file():
        raise ModelError(f"model file not found ({path})")
    _check_options(engine, threads, opts)
    if engine == "onnxruntime":
        from evalcore.backends.ort import OnnxBackend

        return OnnxBackend(path, variant, threads=threads, **opts)
    if engine == "tflite":
        from evalcore.backends.tflite import TfliteBackend

        return TfliteBackend(path, variant, threads=threads, **opts)
    from evalcore.backends.akida import AkidaBackend

    return AkidaBackend(path, variant, **opts)


def _check_options(engine: str, threads, opts: dict) -> None:
    unknown = sorted(set(opts) - _OPTIONS[engine])
    if unknown:
        raise ConfigError(
            f"unknown option {', '.join(unknown)} for the {engine} backend, allowed: "
            f"{', '.join(sorted(_OPTIONS[engine]))}"
        )
    if not _is_int(threads) or threads < 1:
        raise ConfigError(f"threads must be an integer >= 1, got {threads!r}")
    for name in ("batch_size", "max_batch_elements"):
        if name in opts and (not _is_int(opts[name]) or opts[name] < 1):
            raise ConfigError(f"{name} must be an integer >= 1, got {opts[name]!r}")
    for name in ("batch_rewrite", "xnnpack", "akida_softmax", "akida_check_file"):
        if name in opts and not isinstance(opts[name], bool):
            raise ConfigError(f"{name} must be true or false, got {opts[name]!r}")
    device = opts.get("akida_device", "auto")
    if device not in ("auto", "hardware", "software"):
        raise ConfigError(f"akida_device must be auto, hardware or software, got {device!r}")
    scale = opts.get("akida_input_scale")
    if scale is not None and (isinstance(scale, bool) or not isinstance(scale, (int, float))
                              or not scale > 0):
        raise ConfigError(f"akida_input_scale must be a number > 0, got {scale!r}")
    quant = opts.get("quantization")
    if quant is not None and not isinstance(quant, dict):
        raise ConfigError(f"quantization must be a mapping of tensor name to scale/zero point, "
                          f"got {type(quant).__name__}")


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
