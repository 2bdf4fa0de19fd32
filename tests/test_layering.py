"""Import direction and a lazy CLI, as STYLE.md "Layering" and "Lazy imports" require."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
KERNEL_ALLOWED = {"numpy", "numba", "math", "os", "tempfile", "__future__", "kernels", "typing", "dataclasses",
                  # kernels._native: numba's saved machine code loaded by llvmlite (numba's own dependency)
                  "llvmlite", "builtins", "contextlib", "ctypes", "functools", "glob", "hashlib", "importlib",
                  "json", "struct", "sys", "threading"}


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


# -- the house's table: which room may import which (ARCHITECTURE.md "Dependencies") ------------
#
# A room is a package of evalcore (``pipeline``, ``report``, ``learn`` ...), a top-level module of
# evalcore (``engine``, ``options`` ...) or ``kernels``. An arrow A -> B means some module of A
# imports some module of B (at module level or inside a function). Importing a package's
# submodule does not count as importing the package's ``__init__`` (as import-linter counts it).
# A new room or a new arrow fails `test_imports_follow_the_table` until it is added here, on
# purpose, with ARCHITECTURE.md.

ALLOWED = {
    "kernels": set(),
    "errors": set(),
    "jsnumber": {"kernels"},  # kernels.jsfloat: whole arrays' digits, once numba is loaded
    "jsonio": {"jsnumber", "kernels"},
    "progress": set(),
    "warmup": {"kernels"},
    "schema": {"errors", "jsnumber", "jsonio"},
    "windowing": {"errors"},
    "dsp": {"errors", "kernels"},
    "backends": {"errors"},
    "data": {"errors", "kernels", "schema"},  # kernels.cbor_reader: a CBOR file's numbers
    "bundle": {"dsp", "errors", "schema", "windowing"},
    "options": {"errors"},
    "outcome": {"schema"},
    "outputs": {"errors", "jsonio"},
    "slices": {"errors", "options"},
    # the two siblings over the kernels
    "learn": {"dsp", "errors", "jsnumber", "jsonio", "kernels", "outcome", "schema"},
    "metrics": {"errors", "kernels"},
    # the map and the reduce, which meet in outcome only
    "pipeline": {"backends", "bundle", "data", "dsp", "errors", "jsnumber", "jsonio", "kernels", "learn",
                 "outcome", "windowing"},
    "report": {"errors", "jsnumber", "jsonio", "metrics", "outcome", "schema", "slices"},
    "engine": {"bundle", "errors", "jsonio", "learn", "metrics", "options", "outputs", "pipeline", "progress",
               "report", "slices", "warmup"},
    # parts of a run and their merge (evalcore run --shard / evalcore merge), above the engine
    "shards": {"engine", "errors", "metrics", "options", "outputs", "pipeline", "report"},
    # side commands, beside the engine
    "inspect": {"bundle", "data", "errors", "learn", "options", "pipeline", "progress", "report"},
    "compare_sources": {"errors"},
    "compare_summary": set(),
    "compare": {"compare_sources", "compare_summary", "engine", "errors"},
    "coco_columns": {"kernels"},
    "coco_eval": {"coco_columns", "errors", "kernels", "metrics"},
    "check": {"compare", "engine", "errors", "jsonio", "outputs"},
    "testing": {"check"},
    "bench": {"backends", "bundle", "data", "engine", "errors", "metrics", "options", "pipeline"},
    "report_svg": set(),
    "report_html": {"compare", "compare_sources", "data", "engine", "errors", "jsonio", "options", "outputs",
                    "report_svg"},
    "serve": {"errors", "jsonio"},
    "pull": {"errors"},
    # executors spread a run's samples (the Dask executor: chunks of samples, shard states merged)
    "executors": {"errors", "progress", "shards"},
    "cli": {"bench", "check", "coco_eval", "compare", "compare_sources", "engine", "errors", "executors", "inspect",
            "jsonio", "options", "outputs", "pull", "report_html", "serve", "shards", "slices"},
    "__main__": {"cli"},
}

#: Arrows that must never exist, whatever the table says (ARCHITECTURE.md "Rules").
NEVER = [
    ({"schema", "jsnumber", "jsonio"}, {"bundle", "data", "dsp", "learn", "metrics", "pipeline", "report", "engine"}),
    ({"data", "dsp", "backends", "windowing"}, {"learn", "metrics", "pipeline", "report", "engine"}),
    ({"learn"}, {"metrics", "report"}),
    ({"metrics"}, {"learn", "pipeline", "report"}),
    ({"report"}, {"learn", "dsp", "pipeline", "backends", "data", "windowing"}),
    ({"pipeline"}, {"report", "metrics"}),
    ({"pipeline", "report", "learn", "metrics", "engine"},
     {"inspect", "compare", "check", "bench", "report_html", "serve", "pull", "coco_eval", "cli"}),
]


def _room(module: str) -> str:
    parts = module.split(".")
    return "kernels" if parts[0] == "kernels" else (parts[1] if len(parts) > 1 else "evalcore")


def _source_modules(root: Path) -> dict[str, Path]:
    files = sorted(list((root / "evalcore").rglob("*.py")) + list((root / "kernels").glob("*.py")))
    return {_module_name_in(root, p): p for p in files}


def _module_name_in(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _module_edges(root: Path) -> dict[str, set[str]]:
    """Module -> the project modules it imports (``from P import m`` with ``P.m`` a module: only ``P.m``)."""
    modules = _source_modules(root)
    edges: dict[str, set[str]] = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        targets: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                targets.update(_known_prefix(a.name, modules) for a in node.names)
            elif isinstance(node, ast.ImportFrom):
                module = node.module or ""
                if node.level:
                    parts = package.split(".")
                    base = ".".join(parts[: len(parts) - (node.level - 1)])
                    module = f"{base}.{module}" if module else base
                for alias in node.names:
                    sub = f"{module}.{alias.name}"
                    targets.add(sub if sub in modules else _known_prefix(module, modules))
            elif (isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", None))
                  == "import_module" and node.args and isinstance(node.args[0], ast.Constant)
                  and isinstance(node.args[0].value, str)):
                targets.add(_known_prefix(node.args[0].value, modules))
        edges[name] = {t for t in targets if t and t != name}
    return edges


def _known_prefix(module: str, modules) -> str:
    """The longest prefix of ``module`` that is a project module ("" for outside modules)."""
    while module and module not in modules:
        module = module.rpartition(".")[0]
    return module


def _room_arrows(edges: dict[str, set[str]]) -> dict[tuple[str, str], list[str]]:
    """(room, room) -> the module arrows behind it (same-room and evalcore/__init__ arrows left out)."""
    arrows: dict[tuple[str, str], list[str]] = {}
    for source, targets in edges.items():
        for target in targets:
            a, b = _room(source), _room(target)
            if a != b and b != "evalcore":
                arrows.setdefault((a, b), []).append(f"{source} -> {target}")
    return arrows


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def _violations(root: Path) -> list[str]:
    edges = _module_edges(root)
    problems = []
    rooms = {_room(m) for m in edges} - {"evalcore"}
    problems += [f"room {r!r} is not in the table (ALLOWED)" for r in sorted(rooms - set(ALLOWED))]
    for (a, b), why in sorted(_room_arrows(edges).items()):
        if b not in ALLOWED.get(a, set()):
            problems.append(f"arrow {a} -> {b} is not in the table: {why[0]}")
        for sources, targets in NEVER:
            if a in sources and b in targets:
                problems.append(f"arrow {a} -> {b} is a 'never' row: {why[0]}")
    problems += [f"import loop: {' <-> '.join(group)}" for group in _cycles(edges)]
    return problems


def test_imports_follow_the_table():
    """Without it a new arrow against ARCHITECTURE.md (the reduce importing learn, a map module
    importing the report, a side command imported by the engine) or an import loop hidden in a
    function would go unseen."""
    problems = _violations(REPO)
    assert not problems, "\n".join(problems)


def test_the_table_check_can_fail(tmp_path, monkeypatch):
    """Without it the table check above could pass on anything (a scan that sees no arrow)."""
    for rel, text in {
        "evalcore/__init__.py": "",
        "evalcore/report/__init__.py": "",
        "evalcore/report/builder.py": "from evalcore.learn import decide\n",
        "evalcore/learn/__init__.py": "",
        "evalcore/learn/decide.py": "def f():\n    from evalcore.learn.other import g\n",
        "evalcore/learn/other.py": "from evalcore.learn import decide\n",
        "evalcore/newroom.py": "import evalcore.errors\n",
        "evalcore/errors.py": "",
        "kernels/__init__.py": "",
    }.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    problems = _violations(tmp_path)
    assert any("arrow report -> learn is not in the table" in p for p in problems), problems
    assert any("arrow report -> learn is a 'never' row" in p for p in problems), problems
    assert any("import loop: evalcore.learn.decide <-> evalcore.learn.other" in p for p in problems), problems
    assert any("room 'newroom' is not in the table" in p for p in problems), problems
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": set()}) == []
