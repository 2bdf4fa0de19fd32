"""The map wing: one sample -> windows -> DSP features -> models -> decided ``SampleOutcome``.

- ``featurize``: `SampleFeaturizer`, a record -> windows, expected labels, learn-block rows.
- ``precomputed``: `FeatureSource`, the same from ``features/*.npy`` (no DSP).
- ``pool``: `PreparePool`, the featurizer in worker processes, results in record order.
- ``infer``: `Pipeline`, loads the backends, batches rows across samples on a model thread and
  hands each batch to ``evalcore.learn.decide`` so that outcomes leave the map decided.

Nothing here is imported by the reduce (``evalcore.report``); both meet in ``evalcore.outcome``.
"""
