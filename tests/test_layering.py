"""Import direction and a lazy CLI, as STYLE.md "Layering" and "Lazy imports" require."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
KERNEL_ALLOWED = {"numpy", "numba", "math", "os", "tempfile", "__future__", "kernels", "typing", "dataclasses"}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_kernels_import_only_numpy_numba_stdlib():
    """Without it a kernel could grow a dependency on evalcore or pydantic and break the layering."""
    bad = {}
    for path in sorted((REPO / "kernels").glob("*.py")):
        extra = _imports(path) - KERNEL_ALLOWED
        if extra:
            bad[path.name] = sorted(extra)
    assert not bad, f"kernels/ imports outside numpy/numba/stdlib: {bad}"


def test_nothing_imports_cli():
    """Without it library code could depend on the CLI, which must stay a thin shell."""
    offenders = [
        str(p.relative_to(REPO))
        for p in sorted((REPO / "evalcore").rglob("*.py"))
        if p.name not in ("cli.py", "__main__.py") and "cli" in {m.split(".")[-1] for m in _evalcore_modules(p)}
    ]
    assert not offenders, f"modules importing evalcore.cli: {offenders}"


def _evalcore_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    mods: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("evalcore"):
            mods.add(node.module)
        elif isinstance(node, ast.Import):
            mods.update(a.name for a in node.names if a.name.startswith("evalcore"))
    return mods


def test_no_hardcoded_fastmath_or_print():
    """Without it a kernel could silently lose bit-parity (fastmath) or a library could print."""
    offenders = []
    for root in ("kernels", "evalcore"):
        for p in sorted((REPO / root).rglob("*.py")):
            text = p.read_text(encoding="utf-8")
            if "fastmath=" in text and p.name != "_config.py" and "fastmath=FASTMATH" not in text:
                offenders.append(f"{p.relative_to(REPO)}: fastmath=")
            if p.name != "cli.py" and "print(" in text:
                offenders.append(f"{p.relative_to(REPO)}: print(")
    assert not offenders, offenders


def test_help_does_not_load_heavy_modules():
    """Without it `evalcore --help` would pay numba/onnxruntime/scipy start-up (seconds)."""
    code = (
        "import sys, io, contextlib\n"
        "from evalcore.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    try:\n"
        "        main(['--help'])\n"
        "    except SystemExit:\n"
        "        pass\n"
        "heavy = [m for m in ('numba', 'onnxruntime', 'scipy', 'numpy', 'pydantic') if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True)
    assert out.stdout.strip() == "", f"--help imported: {out.stdout.strip()}"


def test_ruff_is_clean():
    """Without it style drift (unused imports, missing numpydoc docstrings) would pile up unseen."""
    import shutil

    import pytest

    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    if ruff is None:
        pytest.skip("ruff is not installed (it is in the dev extra)")
    out = subprocess.run([ruff, "check", "evalcore", "kernels", "tests"], capture_output=True, text=True, cwd=REPO)
    assert out.returncode == 0, out.stdout[-3000:]
