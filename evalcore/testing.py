"""Assertions for a project's own tests: the ``evalcore check`` gate in one line of pytest.

>>> from evalcore.testing import assert_metrics
>>> assert_metrics("out/result.json", require=["accuracy>=85", "recall[idle]>=90"],
...                max_drop={"accuracy": 0.5}, baseline="baseline/result.json")  # doctest: +SKIP

A failed check raises ``AssertionError`` whose message has one line per failed check naming the
metric, its value, the threshold and how far it moved from the baseline, so pytest's report says
what regressed. Metric names, scales and directions are those of :mod:`evalcore.check`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from evalcore.check import CheckReport, check_documents

__all__ = ["assert_metrics"]


def assert_metrics(result: object, *, require: str | Iterable[str] = (),
                   max_drop: str | Iterable[str] | Mapping[str, float] = (),
                   baseline: object = None) -> CheckReport:
    """Assert that a result meets value thresholds and does not fall below a baseline.

    Parameters
    ----------
    result : str, os.PathLike or dict
        A ``ClassifyJobResponse``: a file written by ``evalcore run`` (its ``result.run.json``
        sidecar is read too) or Studio, or the parsed document.
    require : str or iterable of str
        Value thresholds ``NAME OP VALUE``, e.g. ``"accuracy>=85"`` (percent for accuracy-type
        metrics) or ``["recall[idle]>=90", "Loss<0.8"]``.
    max_drop : str, iterable of str, or mapping
        Change thresholds, ``{"accuracy": 0.5}`` or ``"accuracy=0.5,Loss=0.05"``: how much worse
        than ``baseline`` each metric may get (for lower-is-better metrics a rise is worse).
    baseline : str, os.PathLike, dict or None
        The result to compare with; needed by ``max_drop``.

    Returns
    -------
    CheckReport
        The verdicts, when all passed.

    Raises
    ------
    AssertionError
        When a check fails; one line per failed check.
    evalcore.errors.ConfigError, evalcore.errors.BundleError
        Bad expressions, unknown metric names (the message lists the available ones), unreadable files.
    """
    report = check_documents(result, require=require, max_drop=max_drop, baseline=baseline)
    if not report.passed:
        failed = report.failures
        lines = [f"evalcore check: {len(failed)} of {len(report.verdicts)} check(s) failed for {report.result}"
                 + (f" (baseline {report.baseline})" if report.baseline else "")]
        lines += ["  " + v.describe() for v in failed]
        raise AssertionError("\n".join(lines))
    return report
