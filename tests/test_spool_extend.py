"""`SampleSpool.extend` (a batch of samples, one write a file) must leave what `append` does."""

from __future__ import annotations

import random

import numpy as np

from evalcore.report.pages import SampleSpool


def _contents(spool: SampleSpool):
    return (b"".join(spool.all_of("results")), b"".join(spool.all_of("rows")), spool.index().tolist(),
            spool.ids_sorted, len(spool))


def test_extend_equals_append(tmp_path):
    """Without it an offset or a separating comma could be off by one where rows are empty."""
    rng = random.Random(3)
    for trial in range(30):
        samples = [(rng.randrange(100), b"r%d" % k * rng.randint(1, 3), b"p" * rng.choice([0, 0, 1, 4]))
                   for k in range(rng.randint(1, 40))]
        one, many = SampleSpool(tmp_path), SampleSpool(tmp_path)
        for sample in samples:
            one.append(*sample)
        at = 0
        while at < len(samples):
            size = rng.randint(0, 7)
            chunk = samples[at : at + size]
            many.extend([s[0] for s in chunk], [s[1] for s in chunk], [s[2] for s in chunk])
            at += size
        assert _contents(one) == _contents(many), trial
        index = np.asarray(many.index())
        results, rows_text = b"".join(many.all_of("results")), b"".join(many.all_of("rows"))
        for (sample_id, result, rows), row in zip(samples, index):
            assert row[0] == sample_id and results[row[1] : row[1] + row[2]] == result
            assert rows_text[row[3] : row[3] + row[4]] == rows
        one.close()
        many.close()
