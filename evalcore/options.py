"""The options of one run: ``RunOptions`` and the ``--compat`` readings of Studio's open rules.

Standard library only at import time: the command line imports ``COMPAT_SETTINGS`` for its help
text before anything heavy is loaded.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from evalcore.errors import ConfigError

__all__ = ["COMPAT_SETTINGS", "SLICE_KINDS", "RunOptions", "parse_compat", "parse_slice_keys"]

#: Keys that are not metadata names.
SLICE_KINDS = ("label", "device", "category")
_METADATA = "metadata."


#: ``--compat NAME=VALUE`` settings: each open Studio rule (README, "Compatibility notes"),
#: name -> (allowed values, default). The defaults are the documented readings.
COMPAT_SETTINGS: dict[str, tuple[tuple[str, ...], str]] = {
    "uncertain": (("bad", "exclude"), "bad"),
    "balanced-accuracy": (("mean_recall", "anomaly_mean"), "mean_recall"),
    "confusion-values": (("counts", "percent"), "counts"),
    "classifier-threshold": ((">=", ">"), ">="),
    "anomaly-threshold": ((">", ">="), ">"),
    "regression-threshold": (("<=", "<"), "<="),
    "unknown-label": (("anomaly", "label"), "anomaly"),
    "trailing-window": (("drop", "pad"), "drop"),
    "resample": (("linear", "poly", "refuse"), "linear"),
    # studio-evidence.md: E3/E4 (percent), E1 (uncertain column), E2 (F1 score counts), E5 (names, -1)
    "score-scale": (("percent", "fraction"), "percent"),
    "uncertain-column": (("always", "when-present"), "always"),
    "detection-summary": (("zero", "counts"), "zero"),
    "detection-metric-names": (("bracketed", "plain"), "bracketed"),
    "detection-undefined": (("minus-one", "omit"), "minus-one"),
    "multilabel-average": (("weighted", "micro", "macro", "samples"), "weighted"),
}


def parse_compat(items) -> dict[str, str]:
    """``["uncertain=exclude", ...]`` -> a full settings dict (defaults filled in)."""
    out = {name: default for name, (_, default) in COMPAT_SETTINGS.items()}
    for item in items or ():
        name, sep, value = item.partition("=")
        if not sep or name not in COMPAT_SETTINGS:
            raise ConfigError(
                f"--compat takes NAME=VALUE with NAME one of {', '.join(COMPAT_SETTINGS)}, got {item!r}"
            )
        allowed = COMPAT_SETTINGS[name][0]
        if value not in allowed:
            raise ConfigError(f"--compat {name} must be one of {', '.join(allowed)}, got {value!r}")
        out[name] = value
    return out


@dataclass(frozen=True)
class RunOptions:
    """Options of one ``evalcore run``; every open Studio rule is one of these (README, Compatibility notes)."""

    variant: str | None = None
    category: str = "testing"
    thresholds: dict[str, float] = field(default_factory=dict)
    features: str = "auto"
    akida_device: str = "auto"
    threads: int = 1
    batch_rows: int = 1024
    overlap: bool = True
    workers: int | None = None
    quiet: bool = True
    compat: dict[str, str] = field(default_factory=lambda: parse_compat(()))
    follow_links: bool = False
    slice_by: tuple[str, ...] = ()

    def __post_init__(self):
        parse_slice_keys(self.slice_by)  # raises ConfigError for an unknown key
        if self.variant not in (None, "float32", "int8", "akida"):
            raise ConfigError(f"variant must be one of float32, int8, akida, got {self.variant!r}")
        if self.threads < 1:
            raise ConfigError(f"threads must be >= 1, got {self.threads}")
        if self.batch_rows < 1:
            raise ConfigError(f"batch size must be >= 1, got {self.batch_rows}")
        if self.workers is not None and self.workers < 0:
            raise ConfigError(f"workers must be >= 0, got {self.workers}")
        for key, value in self.thresholds.items():
            if not math.isfinite(value):
                raise ConfigError(f"--threshold {key} must be a finite number, got {value!r}")

    @classmethod
    def from_cli(cls, args) -> RunOptions:
        """Build options from the parsed ``evalcore run`` arguments."""
        thresholds: dict[str, float] = {}
        for item in args.threshold:
            key, sep, value = item.rpartition("=")
            if not sep or not key:
                raise ConfigError(f"--threshold takes BLOCK=VALUE, got {item!r}")
            try:
                number = float(value)
            except ValueError as err:
                raise ConfigError(f"--threshold value must be a number, got {value!r} in {item!r}") from err
            if not math.isfinite(number):
                raise ConfigError(f"--threshold value must be a finite number, got {value!r} in {item!r}")
            thresholds[key.strip()] = number
        return cls(
            variant=args.variant,
            category=args.category,
            thresholds=thresholds,
            features=args.features,
            akida_device=args.akida_device,
            threads=args.threads,
            batch_rows=args.batch_size,
            overlap=not args.no_overlap,
            workers=args.workers,
            quiet=args.quiet,
            compat=parse_compat(args.compat),
            follow_links=getattr(args, "follow_links", False),
            slice_by=_slice_keys(getattr(args, "slice_by", None)),
        )


def _slice_keys(items) -> tuple[str, ...]:
    return parse_slice_keys(items)


def parse_slice_keys(items) -> tuple[str, ...]:
    """Check ``--slice-by`` values; return them without repeats, in the order given.

    Raises
    ------
    ConfigError
        A key that is neither ``metadata.NAME`` nor one of `SLICE_KINDS`.
    """
    keys: dict[str, None] = {}
    for item in items or ():
        if item in SLICE_KINDS or (item.startswith(_METADATA) and len(item) > len(_METADATA)):
            keys.setdefault(item, None)
            continue
        raise ConfigError(
            f"--slice-by takes metadata.NAME, {', '.join(SLICE_KINDS[:-1])} or {SLICE_KINDS[-1]}, got {item!r}"
        )
    return tuple(keys)
