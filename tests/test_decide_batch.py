"""`Decider.decide_all` (a batch's windows decided at once, then cut per sample) must decide each
sample exactly as `Decider.decide` does on its own."""

from __future__ import annotations

import copy
import dataclasses

import numpy as np
import pytest

from evalcore.engine import RunOptions, plan_run
from evalcore.pipeline.featurize import SampleFeaturizer
from evalcore.pipeline.infer import Pipeline


def _outcomes(bundle, options):
    plan = plan_run(bundle, options)
    pipeline = Pipeline(plan.project, plan.options, plan.plans, plan.records)
    featurizer = SampleFeaturizer(plan.project, plan.options)
    batch = [featurizer.prepare(record) for record in plan.records]
    pipeline._infer(batch)  # decides with decide_all
    return pipeline, [p.outcome for p in batch]


def _same(a, b) -> None:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        assert isinstance(a, np.ndarray) and isinstance(b, np.ndarray)
        assert a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()
    elif isinstance(a, (tuple, list)) and a and any(isinstance(x, np.ndarray) for x in a):
        assert type(a) is type(b) and len(a) == len(b)
        for x, y in zip(a, b):
            _same(x, y)
    elif isinstance(a, dict):
        assert a.keys() == b.keys()
        for k in a:
            _same(a[k], b[k])
    else:
        assert a == b


@pytest.mark.parametrize("bundle, compat", [
    ("motion", {}),
    ("motion-gmm", {}),
    ("motion-gmm", {"unknown-label": "label", "anomaly-threshold": ">="}),
    ("regression", {}),
])
def test_batch_decisions_equal_sample_decisions(fixtures_dir, bundle, compat):
    """Without it a window's prediction, a code or a kept row could shift between samples."""
    options = RunOptions(workers=0)
    if compat:
        options = dataclasses.replace(options, compat={**options.compat, **compat})
    pipeline, outcomes = _outcomes(fixtures_dir / bundle, options)
    assert len(outcomes) > 1
    for outcome in outcomes:
        alone = copy.copy(outcome)
        pipeline.decider.decide(alone)
        for field in dataclasses.fields(alone.decided):
            _same(getattr(outcome.decided, field.name), getattr(alone.decided, field.name))
