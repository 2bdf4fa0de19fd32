"""Command-line habits users rely on: exit codes that mean one thing, a quiet mode that is quiet,
errors that name the option to change, and what ran said plainly in the run's sidecar."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from evalcore.cli import EXIT_BAD_INPUT, EXIT_COMPARE_BUG, main
from evalcore.errors import BundleError
from evalcore.windowing import plan_windows

REPO = Path(__file__).resolve().parents[1]


def test_no_command_is_a_usage_error(capsys):
    assert main([]) == EXIT_BAD_INPUT == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: evalcore") and "a command is required" in err


def test_a_bug_in_compare_never_exits_1(monkeypatch, tmp_path, capsys):
    """1 means "the results differ": a crash must not be read as a verdict."""
    import evalcore.compare

    def broken(*args, **kwargs):
        raise RuntimeError("simulated bug")

    monkeypatch.setattr(evalcore.compare, "compare_files", broken)
    a = tmp_path / "a.json"
    a.write_text("{}")
    assert main(["compare", str(a), str(a)]) == EXIT_COMPARE_BUG == 3
    err = capsys.readouterr().err
    assert "RuntimeError: simulated bug" in err and "a bug, not a difference" in err


def test_a_bug_elsewhere_keeps_exit_1_and_its_traceback(monkeypatch, tmp_path):
    import evalcore.inspect

    def broken(*args, **kwargs):
        raise RuntimeError("simulated bug")

    monkeypatch.setattr(evalcore.inspect, "inspect_bundle", broken)
    with pytest.raises(RuntimeError, match="simulated bug"):  # the console script turns it into exit 1
        main(["inspect", str(tmp_path)])


def test_refused_resampling_names_the_option_to_use():
    with pytest.raises(BundleError) as err:
        plan_windows(1000, 10.0, window_size_ms=1000, window_increase_ms=500, frequency_hz=50.0,
                     resample="refuse", sample="a.json")
    message = str(err.value)
    assert "--compat resample=linear" in message and "a.json" in message


def test_quiet_run_prints_nothing_not_even_the_runtime_info_line(fixtures_dir, tmp_path):
    """LiteRT writes "INFO: Created TensorFlow Lite XNNPACK delegate" from C++ to descriptor 2."""
    pytest.importorskip("ai_edge_litert")
    base = [sys.executable, "-m", "evalcore", "run", str(fixtures_dir / "kws"), "--variant", "int8",
            "--workers", "0"]
    quiet = subprocess.run([*base, "--out", str(tmp_path / "q.json"), "-q"],
                           capture_output=True, text=True, cwd=REPO, timeout=300)
    assert quiet.returncode == 0 and quiet.stderr == "" and quiet.stdout == ""
    loud = subprocess.run([*base, "--out", str(tmp_path / "l.json")],
                          capture_output=True, text=True, cwd=REPO, timeout=300)
    assert loud.returncode == 0
    assert "XNNPACK" in loud.stderr, "without -q the runtime's line still shows (the filter is not a no-op)"
    assert "evaluated 6 samples" in loud.stderr
    assert (tmp_path / "q.json").read_bytes() == (tmp_path / "l.json").read_bytes()


def test_native_info_filter_keeps_other_lines(capfd):
    from evalcore.backends.native_log import drop_native_info

    with drop_native_info():
        os.write(2, b"INFO: Created a delegate\nWARNING: something the user should see\n")
    with drop_native_info(enabled=False):
        os.write(2, b"INFO: passes through when disabled\n")
    assert capfd.readouterr().err == "WARNING: something the user should see\nINFO: passes through when disabled\n"


def test_akida_sidecar_says_the_hardware_path_is_unchecked(fixtures_dir):
    pytest.importorskip("akida")
    from evalcore.engine import RunOptions, run_bundle

    result = run_bundle(fixtures_dir / "akida", RunOptions(variant="akida", workers=0, akida_device="software"))
    models = [block["model"] for block in result.run_info()["learnBlocks"].values() if block["model"]]
    assert models and all(m["hardware_path_checked"].startswith("stand-in devices only") for m in models)


def test_out_dash_writes_the_result_to_stdout_and_no_file(fixtures_dir, tmp_path, monkeypatch):
    """`--out -` used to create a file named "-"; the sidecar goes only where --run-json says."""
    monkeypatch.chdir(tmp_path)
    bundle = str(fixtures_dir / "motion")
    printed = subprocess.run([sys.executable, "-m", "evalcore", "run", bundle, "--out", "-", "-q", "--workers", "0"],
                             capture_output=True, cwd=tmp_path, timeout=300,
                             env={**os.environ, "PYTHONPATH": str(REPO)})
    assert printed.returncode == 0, printed.stderr
    assert list(tmp_path.iterdir()) == [], "nothing written next to the caller, no file named '-'"
    assert main(["run", bundle, "--out", str(tmp_path / "r.json"), "-q", "--workers", "0"]) == 0
    assert printed.stdout == (tmp_path / "r.json").read_bytes()
    side = tmp_path / "side" / "info.json"
    side.parent.mkdir()
    again = subprocess.run([sys.executable, "-m", "evalcore", "run", bundle, "--out", "-", "-q", "--workers", "0",
                            "--run-json", str(side)], capture_output=True, cwd=tmp_path, timeout=300,
                           env={**os.environ, "PYTHONPATH": str(REPO)})
    assert again.returncode == 0 and again.stdout == printed.stdout
    assert side.read_bytes() != b"" and (tmp_path / "r.run.json").exists()


def test_out_dir_without_page_size_is_an_error(fixtures_dir, tmp_path, capsys):
    out = tmp_path / "r.json"
    assert main(["run", str(fixtures_dir / "motion"), "--out", str(out), "--out-dir", str(tmp_path / "p"), "-q"]) == 2
    assert "--out-dir needs --page-size" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_compare_needs_a_result_file(fixtures_dir, capsys):
    assert main(["run", str(fixtures_dir / "motion"), "--out", "-", "--compare"]) == 2
    assert "--compare reads the result back from a file" in capsys.readouterr().err
