"""Import direction and a lazy CLI, as STYLE.md "Layering" and "Lazy imports" require."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
KERNEL_ALLOWED = {"numpy", "numba", "math", "os", "tempfile", "__future__", "kernels", "typing", "dataclasses"}


def _module_name(path: Path) -> str:
    """Dotted name of a source file under REPO (``evalcore/io/x.py`` -> ``evalcore.io.x``)."""
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imported_modules(path: Path) -> set[str]:
    """Every module a file imports, absolute: ``import a.b``, ``from a import b`` (gives ``a`` and
    ``a.b``, as ``b`` may be a submodule), relative imports resolved against the file's package,
    and ``importlib.import_module("a.b")`` with a literal name."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    mods: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            mods.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - (node.level - 1)])
                module = f"{base}.{node.module}" if node.module else base
            else:
                module = node.module
            mods.add(module)
            mods.update(f"{module}.{a.name}" for a in node.names if a.name != "*")
        elif (isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", None)) == "import_module"
              and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
            mods.add(node.args[0].value)
    return mods


def _imports(path: Path) -> set[str]:
    """Top-level packages a file imports (relative imports resolve to its own package)."""
    return {m.split(".")[0] for m in _imported_modules(path)}


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
        if p.name not in ("cli.py", "__main__.py")
        and any(m == "evalcore.cli" or m.startswith("evalcore.cli.") for m in _imported_modules(p))
    ]
    assert not offenders, f"modules importing evalcore.cli: {offenders}"


def test_import_scan_sees_every_form(tmp_path, monkeypatch):
    """Without it the scan above could miss an import form and pass on a module importing the CLI."""
    monkeypatch.setattr(sys.modules[__name__], "REPO", tmp_path)
    (tmp_path / "evalcore" / "io").mkdir(parents=True)
    forms = {
        "import evalcore.cli": "evalcore/a.py",
        "import evalcore.cli as c": "evalcore/b.py",
        "from evalcore import cli": "evalcore/c.py",
        "from evalcore.cli import main": "evalcore/d.py",
        "from . import cli": "evalcore/e.py",
        "from .cli import main": "evalcore/f.py",
        "from .. import cli": "evalcore/io/g.py",
        "from ..cli import main": "evalcore/io/h.py",
        "from .. import cli  # in a package": "evalcore/io/__init__.py",
        "def f():\n    import importlib\n    return importlib.import_module('evalcore.cli')": "evalcore/i.py",
    }
    for source, rel in forms.items():
        (tmp_path / rel).write_text(source + "\n", encoding="utf-8")
        assert "evalcore.cli" in _imported_modules(tmp_path / rel), source
    (tmp_path / "evalcore" / "clean.py").write_text("from . import client\nimport evalcore.clip\n")
    assert not any(m == "evalcore.cli" for m in _imported_modules(tmp_path / "evalcore" / "clean.py"))
    assert _imports(tmp_path / "evalcore" / "e.py") == {"evalcore"}


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
