"""The import structure of :mod:`textedit`, checked on the source (``ast``, nothing imported).

Layers, lowest first. A module may import (at module level or inside a function) only
modules of its own layer or lower; ``X.*`` means the package ``X`` and everything under it.

* L0  ``textedit._version``, ``textedit.errors``, ``textedit.utils.*``
* L1  ``textedit.registry.{entry_points,registry,presets,kinds}`` and the ``textedit.registry``
  package ``__init__``
* L2  ``textedit.config.*``
* L3  ``textedit.registry.api``, ``textedit.serialization``
* L4  ``textedit.text.*``, ``textedit.data.*``, ``textedit.visualize``, ``textedit.layers.*``,
  ``textedit.ops.*``
* L5  ``textedit.editing.{inputs,text,result,composite,explain,request,gallery,page}`` and the
  ``textedit.editing`` package ``__init__``
* L6  ``textedit.interfaces.*``
* L7  ``textedit.losses``, ``textedit.components.*``
* L8  ``textedit.models.*``
* L9  ``textedit.pretrained``, ``textedit.editing.{loading,batch,server}``,
  ``textedit.training.*``, ``textedit.evaluation.*``, ``textedit.testing.*``
* L10 ``textedit.cli.*``, ``textedit.__main__``, ``textedit`` (the root package)

One change to the map as first drawn: the ``textedit.registry`` package ``__init__`` sits in
L1 with the registries, not in L3 with :mod:`textedit.registry.api`. Importing
``textedit.registry.kinds`` runs ``textedit/registry/__init__.py`` first, so every config
module (L2) that looks a type up in the registries depends on that ``__init__``; at module
level it imports only L1 modules, and its ``__getattr__`` loads the front doors of ``api``
by name (``importlib.import_module``), which is the facade's allowed exception.

Rules for reading imports:

* ``import a.b.c`` imports ``a.b.c`` and, first, the packages ``a.b`` and ``a``: an edge to a
  module is also an edge to each parent package ``__init__``, except the root ``textedit``
  (a lazy facade) and the packages that contain the importing module (they are already being
  imported when it runs, so e.g. ``textedit.editing.batch`` importing
  ``textedit.editing.inputs`` adds no edge to ``textedit.editing``).
* ``from X import Y`` is an edge to the module ``X.Y`` when that is a module, else to ``X``.
* Imports under ``if TYPE_CHECKING:`` are ignored; a class body runs at import, so it counts
  as module level.

In-function imports of ``textedit`` modules are allowed only in ``textedit.cli.*`` (so that
``textedit --help`` starts without torch), in the root and registry facades, or when the
import carries a comment starting with ``# lazy:`` giving the reason, on one of its lines or
in the comment block directly above it. Third-party imports inside functions (optional
dependencies) are not checked.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"
ROOT = "textedit"

#: (pattern, layer); "X.*" is X and everything under it, anything else one exact module
LAYERS: tuple[tuple[str, int], ...] = (
    ("textedit._version", 0),
    ("textedit.errors", 0),
    ("textedit.utils.*", 0),
    ("textedit.registry", 1),
    ("textedit.registry.entry_points", 1),
    ("textedit.registry.registry", 1),
    ("textedit.registry.presets", 1),
    ("textedit.registry.kinds", 1),
    ("textedit.config.*", 2),
    ("textedit.registry.api", 3),
    ("textedit.serialization", 3),
    ("textedit.text.*", 4),
    ("textedit.data.*", 4),
    ("textedit.visualize", 4),
    ("textedit.layers.*", 4),
    ("textedit.ops.*", 4),
    ("textedit.editing", 5),
    *((f"textedit.editing.{name}", 5) for name in (
        "inputs", "text", "result", "composite", "explain", "request", "gallery", "page"
    )),
    ("textedit.interfaces.*", 6),
    ("textedit.losses", 7),
    ("textedit.components.*", 7),
    ("textedit.models.*", 8),
    ("textedit.pretrained", 9),
    ("textedit.editing.loading", 9),
    ("textedit.editing.batch", 9),
    ("textedit.editing.server", 9),
    ("textedit.training.*", 9),
    ("textedit.evaluation.*", 9),
    ("textedit.testing.*", 9),
    ("textedit.cli.*", 10),
    ("textedit.__main__", 10),
    ("textedit", 10),
)

#: modules whose functions may import textedit modules without a ``# lazy:`` comment
FACADES = ("textedit", "textedit.registry")
LAZY_EXEMPT_PREFIXES = ("textedit.cli",)
LAZY_MARK = "# lazy:"


@dataclass(frozen=True)
class Import:
    source: str  # importing module
    target: str  # imported module (resolved)
    line: int
    in_function: bool
    implicit: bool = False  # a parent package __init__ run by importing ``target``
    lazy_comment: bool = False


@dataclass
class Module:
    name: str
    path: Path
    is_package: bool
    imports: list[Import] = field(default_factory=list)


def _module_name(path: Path) -> tuple[str, bool]:
    parts = path.relative_to(SRC).with_suffix("").parts
    if parts[-1] == "__init__":
        return ".".join(parts[:-1]), True
    return ".".join(parts), False


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _has_lazy_comment(lines: list[str], node: ast.stmt) -> bool:
    end = node.end_lineno or node.lineno
    if any(LAZY_MARK in lines[i - 1] for i in range(node.lineno, end + 1)):
        return True
    i = node.lineno - 1  # comment block directly above
    while i >= 1 and lines[i - 1].lstrip().startswith("#"):
        if lines[i - 1].lstrip().startswith(LAZY_MARK):
            return True
        i -= 1
    return False


def _resolve(name: str, modules: dict[str, Module]) -> str | None:
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def _raw_targets(node: ast.Import | ast.ImportFrom, module: Module, modules) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if node.level:
        package = module.name if module.is_package else module.name.rpartition(".")[0]
        for _ in range(node.level - 1):
            package = package.rpartition(".")[0]
        base = f"{package}.{node.module}" if node.module else package
    else:
        base = node.module or ""
    return [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]


@cache
def collect() -> dict[str, Module]:
    modules: dict[str, Module] = {}
    for path in sorted((SRC / ROOT).rglob("*.py")):
        name, is_package = _module_name(path)
        modules[name] = Module(name, path, is_package)
    for module in modules.values():
        text = module.path.read_text(encoding="utf-8")
        lines = text.splitlines()
        tree = ast.parse(text, filename=str(module.path))

        def visit(node: ast.AST, in_function: bool) -> None:
            for child in ast.iter_child_nodes(node):
                if isinstance(child, ast.If) and _is_type_checking(child.test):
                    for stmt in child.orelse:  # the ``else`` of ``if TYPE_CHECKING`` runs
                        visit_stmt(stmt, in_function)
                    continue
                visit_stmt(child, in_function)

        def visit_stmt(child: ast.AST, in_function: bool) -> None:
            if isinstance(child, (ast.Import, ast.ImportFrom)):
                for raw in _raw_targets(child, module, modules):
                    if raw != ROOT and not raw.startswith(ROOT + "."):
                        continue
                    add(_resolve(raw, modules), child, in_function)
                return
            inner = in_function or isinstance(
                child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)
            )
            visit(child, inner)

        def add(target: str | None, node: ast.stmt, in_function: bool) -> None:
            if target is None or target == module.name:
                return
            lazy = _has_lazy_comment(lines, node)
            module.imports.append(Import(module.name, target, node.lineno, in_function, False, lazy))
            parent = target.rpartition(".")[0]
            while parent and parent != ROOT:
                if not (module.name == parent or module.name.startswith(parent + ".")):
                    module.imports.append(
                        Import(module.name, parent, node.lineno, in_function, True, lazy)
                    )
                parent = parent.rpartition(".")[0]

        visit(tree, False)
    return modules


def layer_of(name: str) -> int | None:
    best: tuple[int, int] | None = None  # (specificity, layer)
    for pattern, layer in LAYERS:
        if pattern.endswith(".*"):
            base = pattern[:-2]
            if name == base or name.startswith(base + "."):
                score = (len(base), layer)
            else:
                continue
        elif name == pattern:
            score = (len(pattern) + 1000, layer)
        else:
            continue
        if best is None or score > best:
            best = score
    return None if best is None else best[1]


def module_graph() -> dict[str, set[str]]:
    return {
        name: {i.target for i in module.imports if not i.in_function}
        for name, module in collect().items()
    }


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm (iterative); the components with more than one module or a loop."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            v, children = work[-1]
            advanced = False
            for w in children:
                if w not in index:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(sorted(graph.get(w, ())))))
                    advanced = True
                    break
                if w in on_stack:
                    low[v] = min(low[v], index[w])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                component = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    component.append(w)
                    if w == v:
                        break
                if len(component) > 1 or v in graph.get(v, ()):
                    found.append(sorted(component))
    return found


def _cycle_in(component: list[str], graph: dict[str, set[str]]) -> list[str]:
    """One cycle through the first module of a strongly connected component (BFS)."""
    members = set(component)
    start = component[0]
    previous: dict[str, str] = {}
    queue = [start]
    while queue:
        v = queue.pop(0)
        for w in sorted(graph[v] & members):
            if w == start:
                path = [v]
                while path[-1] != start:
                    path.append(previous[path[-1]])
                return [*reversed(path), start]
            if w not in previous:
                previous[w] = v
                queue.append(w)
    return component


def test_every_module_has_a_layer():
    missing = sorted(name for name in collect() if layer_of(name) is None)
    assert not missing, f"modules missing from LAYERS: {missing}"


def test_layering():
    violations = []
    for module in collect().values():
        source_layer = layer_of(module.name)
        for imp in module.imports:
            target_layer = layer_of(imp.target)
            if source_layer is None or target_layer is None or target_layer <= source_layer:
                continue
            how = " (package __init__)" if imp.implicit else ""
            where = " in a function" if imp.in_function else ""
            violations.append(
                f"{module.name}:{imp.line} imports {imp.target}{how}{where} "
                f"(layer {source_layer} -> layer {target_layer})"
            )
    assert not violations, "imports against the layers:\n" + "\n".join(sorted(set(violations)))


def test_no_module_level_cycles():
    graph = module_graph()
    cycles = [" -> ".join(_cycle_in(c, graph)) for c in strongly_connected(graph)]
    assert not cycles, "module-level import cycles:\n" + "\n".join(cycles)


def test_in_function_imports_are_marked_lazy():
    unmarked = []
    for module in collect().values():
        if module.name in FACADES or module.name.startswith(LAZY_EXEMPT_PREFIXES):
            continue
        for imp in module.imports:
            if imp.in_function and not imp.implicit and not imp.lazy_comment:
                unmarked.append(f"{module.name}:{imp.line} imports {imp.target}")
    assert not unmarked, (
        "textedit imports inside functions: move them to module level, or add a "
        f"'{LAZY_MARK} <reason>' comment:\n" + "\n".join(sorted(set(unmarked)))
    )


def test_layer_map_helpers():
    assert layer_of("textedit.registry") == 1
    assert layer_of("textedit.registry.api") == 3
    assert layer_of("textedit.editing") == 5
    assert layer_of("textedit.editing.batch") == 9
    assert layer_of("textedit.utils.atomic") == 0
    assert layer_of("textedit") == 10
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"d"}, "e": set()}
    assert sorted(strongly_connected(graph)) == [["a", "b", "c"], ["d"]]
    assert _cycle_in(["a", "b", "c"], graph) == ["a", "b", "c", "a"]


_IMPORT_EACH = r"""
import importlib, json, sys, traceback
failures = {}
for name in json.loads(sys.argv[1]):
    for loaded in [m for m in sys.modules if m == "textedit" or m.startswith("textedit.")]:
        del sys.modules[loaded]
    try:
        importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name != "textedit" and not (exc.name or "").startswith("textedit."):
            continue  # an optional dependency (triton, timm, ...) that is not installed
        failures[name] = f"ModuleNotFoundError: {exc}"
    except BaseException as exc:  # noqa: BLE001 - report every failure
        failures[name] = "".join(traceback.format_exception_only(type(exc), exc)).strip()
print(json.dumps(failures))
"""


@pytest.mark.subprocess
def test_every_module_imports_on_its_own():
    """Each module imported first, in one fresh interpreter: every ``textedit*`` entry is
    dropped from ``sys.modules`` before the next, which catches circular imports that only
    break for one entry point. A module whose optional third-party dependency is missing
    is skipped."""
    names = sorted(collect())
    out = subprocess.run(
        [sys.executable, "-c", _IMPORT_EACH, json.dumps(names)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert out.returncode == 0, out.stderr
    failures = json.loads(out.stdout.strip().splitlines()[-1])
    assert not failures, "modules that fail to import on their own:\n" + "\n".join(
        f"{name}: {error}" for name, error in failures.items()
    )
