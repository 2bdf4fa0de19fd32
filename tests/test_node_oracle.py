"""Node itself as the oracle of our JSON writer: ``JSON.stringify(JSON.parse(bytes))`` is ``bytes``.

Studio is a Node service; its response bodies are ``JSON.stringify`` output. evalcore's writer
(``evalcore.jsonio``) imitates it (number formatting, escapes, raw non-ASCII). Here every output
file of every fixture bundle and variant (``conftest.fixture_outputs``: ``result.json``, its
``result.run.json`` sidecar and every page) goes through Node in one process, which prints the
files whose bytes do not come back unchanged.

Without ``node`` on PATH the test skips, except when the ``CI`` environment variable is set:
then it fails, because CI must show that Node ran (``.ci/run`` installs it).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest

pytestmark = pytest.mark.oracle

# Reads a JSON list of paths on stdin; prints {"checked": n, "mismatched": [{file, at, ours, node}]}.
_ROUND_TRIP = r"""
const fs = require('fs');
const files = JSON.parse(fs.readFileSync(0, 'utf8'));
const mismatched = [];
for (const file of files) {
  const ours = fs.readFileSync(file);
  let again;
  try {
    again = Buffer.from(JSON.stringify(JSON.parse(ours.toString('utf8'))), 'utf8');
  } catch (err) {
    mismatched.push({file, at: -1, ours: '', node: String(err)});
    continue;
  }
  if (!again.equals(ours)) {
    let at = 0;
    while (at < ours.length && at < again.length && ours[at] === again[at]) at++;
    const near = (b) => b.subarray(Math.max(at - 30, 0), at + 30).toString('utf8');
    mismatched.push({file, at, ours: near(ours), node: near(again)});
  }
}
process.stdout.write(JSON.stringify({checked: files.length, mismatched}));
"""

# Files Node must flag (a space, "1.0", an escaped "é", an invalid UTF-8 byte, an array-index key
# after a name) and one it must not: the proof, in the same Node run, that a mismatch is seen.
_CANARIES = {
    "space.json": b'{"a": 1}',
    "float.json": b'{"a":1.0}',
    "escaped.json": b'{"a":"\\u00e9"}',
    "bad-utf8.json": b'{"a":"\xff"}',
    "key-order.json": b'{"b":1,"2":2}',
    "canonical.json": '{"2":0,"10":1,"a":[1,0.5,1e+21,"é","\\ud800"],"b":null}'.encode(),
}


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        message = "node is not on PATH"
        if os.environ.get("CI"):
            pytest.fail(f"{message}, and CI is set: CI must run this oracle (.ci/run installs nodejs)")
        pytest.skip(f"{message} (the CI run installs it)")
    return node


def _round_trip(node: str, files: list) -> dict:
    done = subprocess.run([node, "-e", _ROUND_TRIP], input=json.dumps([str(f) for f in files]),
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, f"node exited {done.returncode}: {done.stderr[-2000:]}"
    return json.loads(done.stdout)


def test_node_gives_back_every_output_byte_for_byte(fixture_outputs, all_bundle_variants, tmp_path):
    """Without it a number format, an escape or a key order Node writes differently from our
    writer would only be caught by the Python re-implementation of Node's rules we test against."""
    node = _node()
    outputs, not_run = [], []
    for name, variant in all_bundle_variants:
        try:
            folder = fixture_outputs(name, variant)
        except pytest.skip.Exception as skipped:  # the akida variant without the akida runtime
            not_run.append(f"{name}-{variant}: {skipped.msg}")
            continue
        outputs += sorted(folder.rglob("*.json"))
    assert len(outputs) >= 3 * (len(all_bundle_variants) - len(not_run))  # result, sidecar, pages
    canaries = []
    for file_name, data in _CANARIES.items():
        (tmp_path / file_name).write_bytes(data)
        canaries.append(tmp_path / file_name)

    report = _round_trip(node, outputs + canaries)

    assert report["checked"] == len(outputs) + len(canaries)
    flagged = {m["file"] for m in report["mismatched"]}
    assert flagged >= {str(f) for f in canaries if f.name != "canonical.json"}, "Node missed a planted mismatch"
    assert str(tmp_path / "canonical.json") not in flagged
    ours = [m for m in report["mismatched"] if m["file"] not in {str(f) for f in canaries}]
    assert not ours, f"{len(ours)} of {len(outputs)} files differ from JSON.stringify:\n" + "\n".join(
        f"{m['file']} at byte {m['at']}: ours {m['ours']!r}, node {m['node']!r}" for m in ours[:10])
    if not_run:
        pytest.skip(f"Node gave back all {len(outputs)} files, but these did not run: {'; '.join(not_run)}")
