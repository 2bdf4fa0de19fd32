"""The reduce wing: decided ``SampleOutcome``s -> accumulators -> ``ClassifyJobResponse`` and pages.

- ``builder``: `ReportBuilder` (built from the project, the run plan and the label set alone: no
  model is loaded) and `AccumulatorSet` (a ``--slice-by`` slice's accumulators).
- ``structured``: the object detection / FOMO / visual anomaly part of the reduce.
- ``text``: per-sample ``result`` / ``predictions`` JSON text, written column-wise.
- ``pages``: ``paginate`` and the streamed writing of the response and its pages.

The reduce imports neither ``evalcore.learn`` nor ``evalcore.dsp`` (tests/test_layering.py).
"""
