"""Executors: ways to spread one run's samples over more than one process or machine.

The map of a run is per sample, and its reduce state saves and merges (``evalcore.shards``), so an
executor only has to hand out record positions, collect the shard states and merge them into the
bytes a single run writes. ``evalcore run --executor local`` (the default) is the engine's own
path; ``--executor dask`` is `evalcore.executors.dask` (optional extra ``evalcore[dask]``).
"""
