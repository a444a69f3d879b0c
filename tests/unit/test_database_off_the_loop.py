"""Nothing touches the database from the event loop's own account (issue 20): in bot/handlers,
bot/miniapp and bot/playground a coroutine reaches the database only through one unit of work
in its chat's database lane, `data.run_unit(key, work)` (bot/store/unit.py, bot/store/lanes.py).

The scan reads the source: a coroutine fails it when its own body opens a session (`.session()`,
`session_scope(...)`, `Session(...)`, or a `UnitOfWork(...)` by hand), or names a synchronous
function that opens one — itself or through other synchronous functions of the scanned modules —
anywhere but in the arguments of a `run_unit(...)` call (so also a function handed to
`asyncio.to_thread`, or to the bare `lanes.run`). Nested functions, lambdas, methods reached
through `self`, and functions imported from another scanned module are followed.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from textwrap import dedent

ROOT = Path(__file__).resolve().parents[2]
SCANNED = ("bot/handlers", "bot/miniapp", "bot/playground")


@dataclass
class _Function:
    module: str
    name: str  # dotted within the module: outer.inner, Class.method
    node: ast.FunctionDef | ast.AsyncFunctionDef
    parent: _Function | None
    cls: dict[str, _Function] | None  # the methods of its class (for `self.x`)
    local: dict[str, _Function] = field(default_factory=dict)
    opens: int = 0  # sessions opened in its own body, outside `run_unit(...)`
    laned: int = 0  # sessions opened in lambdas handed to `run_unit(...)`
    named: list[_Function] = field(default_factory=list)  # functions it names off the lanes


@dataclass
class _Module:
    path: str
    top: dict[str, _Function] = field(default_factory=dict)
    imported: dict[str, tuple[str, str | None]] = field(default_factory=dict)  # name → module


OPENS = re.compile(r"\.session\(\)|\b(UnitOfWork|session_scope|Session)\(")
LANES = re.compile(r"\.run_unit\(")


def _module_path(dotted: str) -> str:
    return dotted.replace(".", "/") + ".py"


def _is_lane_run(node: ast.AST) -> bool:
    """`<anything>.run_unit(...)`: a unit of work in its chat's lane."""
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "run_unit"
    )


def _is_session_open(node: ast.AST) -> bool:
    """`<anything>.session()`, or a session or unit of work opened by hand."""
    if not isinstance(node, ast.Call):
        return False
    if isinstance(node.func, ast.Name) and node.func.id in (
        "UnitOfWork",
        "session_scope",
        "Session",
    ):
        return True
    return isinstance(node.func, ast.Attribute) and node.func.attr == "session" and not node.args


def _definitions(node: ast.AST) -> Iterator[ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef]:
    """The functions and classes defined in `node`, not those inside them."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            yield child
        else:
            yield from _definitions(child)


def _collect(module: _Module, tree: ast.Module) -> list[_Function]:
    """Every function of the module, nested ones and methods too."""
    found: list[_Function] = []

    def visit(
        node: ast.AST,
        parent: _Function | None,
        scope: dict[str, _Function],
        cls: dict[str, _Function] | None,
        prefix: str,
    ) -> None:
        for definition in _definitions(node):
            if isinstance(definition, ast.ClassDef):
                methods: dict[str, _Function] = {}
                visit(definition, parent, methods, methods, f"{prefix}{definition.name}.")
                continue
            function = _Function(module.path, prefix + definition.name, definition, parent, cls)
            scope[definition.name] = function
            found.append(function)
            visit(definition, function, function.local, None, f"{function.name}.")

    visit(tree, None, module.top, None, "")
    return found


def _own_nodes(function: _Function) -> tuple[list[ast.AST], list[ast.AST]]:
    """The nodes of the function's own body: off the lanes, and inside `run_unit(...)`."""
    off: list[ast.AST] = []
    on: list[ast.AST] = []

    def walk(node: ast.AST, laned: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                continue  # a function of its own
            (on if laned else off).append(child)
            if _is_lane_run(child):
                assert isinstance(child, ast.Call)
                walk(child.func, laned)
                for argument in [*child.args, *(k.value for k in child.keywords)]:
                    on.append(argument)
                    walk(argument, True)
            else:
                walk(child, laned)

    walk(function.node, False)
    return off, on


def _resolve(function: _Function, node: ast.AST, modules: dict[str, _Module]) -> _Function | None:
    """The scanned function a name (or `self.x`, `module.x`) refers to, if any."""
    module = modules[function.module]
    if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
        scope: _Function | None = function
        while scope is not None:
            if node.id in scope.local:
                return scope.local[node.id]
            scope = scope.parent
        if node.id in module.top:
            return module.top[node.id]
        source, name = module.imported.get(node.id, ("", None))
        if name is not None and source in modules:
            return modules[source].top.get(name)
        return None
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
        owner = node.value.id
        method: _Function | None = function
        while method is not None and method.cls is None:
            method = method.parent
        if owner == "self" and method is not None and method.cls is not None:
            return method.cls.get(node.attr)
        source, name = module.imported.get(owner, ("", None))
        if name is None and source in modules:
            return modules[source].top.get(node.attr)
    return None


def scan(sources: dict[str, str]) -> tuple[set[tuple[str, str]], int, int]:
    """(module, coroutine) pairs that reach a session off the lanes; how many sessions are
    opened in the sources; how many of them the scan saw (a check that it reads them all)."""
    modules = {path: _Module(path) for path in sources}
    functions: list[_Function] = []
    for path, text in sources.items():
        tree = ast.parse(text)
        module = modules[path]
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                for alias in node.names:
                    source = _module_path(f"{node.module}.{alias.name}")
                    if source in sources:  # `from bot.handlers import cards`
                        module.imported[alias.asname or alias.name] = (source, None)
                    else:
                        module.imported[alias.asname or alias.name] = (
                            _module_path(node.module),
                            alias.name,
                        )
        functions += _collect(module, tree)
    seen = 0
    for function in functions:
        off, on = _own_nodes(function)
        function.opens = sum(1 for node in off if _is_session_open(node))
        function.laned = sum(1 for node in on if _is_session_open(node))
        seen += function.opens + function.laned
        function.named = [
            target for node in off if (target := _resolve(function, node, modules)) is not None
        ]
    touching: dict[int, bool] = {}

    def touches(function: _Function, path: frozenset[int]) -> bool:
        key = id(function)
        if key in touching:
            return touching[key]
        if key in path or isinstance(function.node, ast.AsyncFunctionDef):
            return False  # a coroutine is judged on its own
        result = function.opens > 0 or any(
            touches(target, path | {key}) for target in function.named
        )
        touching[key] = result
        return result

    found = {
        (function.module, function.name)
        for function in functions
        if isinstance(function.node, ast.AsyncFunctionDef)
        and (function.opens > 0 or any(touches(t, frozenset()) for t in function.named))
    }
    total = sum(len(OPENS.findall(text)) for text in sources.values())
    return found, total, seen


def _sources() -> dict[str, str]:
    return {
        str(path.relative_to(ROOT)): path.read_text(encoding="utf-8")
        for folder in SCANNED
        for path in sorted((ROOT / folder).rglob("*.py"))
    }


def test_no_coroutine_opens_a_session_off_its_lane() -> None:
    sources = _sources()
    found, total, seen = scan(sources)
    # the scan looks at real work: the handlers reach the database this many times in units
    assert sum(len(LANES.findall(text)) for text in sources.values()) >= 30
    assert seen == total  # every session the source opens was looked at
    assert found == set()


READ = """
def read(data):
    with data.session() as session:
        return 1

def indirect(data):
    return read(data)
"""


def _found(**modules: str) -> set[str]:
    """The coroutines the scan finds in these modules of bot/handlers."""
    sources = {f"bot/handlers/{name}.py": dedent(text) for name, text in modules.items()}
    found, total, seen = scan(sources)
    assert seen == total
    return {name for _, name in found}


def test_the_scan_finds_each_way_onto_the_loop() -> None:
    here = """
    async def direct(data):
        with data.session() as session:
            pass

    async def helper(data):
        read(data)

    async def chain(data):
        indirect(data)

    async def thread(data):
        await asyncio.to_thread(read, data)

    async def nested(data):
        def work():
            with data.session() as session:
                pass
        work()

    async def in_lambda(data):
        later = lambda: read(data)
        later()

    async def unit_on_loop(data):
        with UnitOfWork(data.engine) as unit:
            unit.commit()

    async def scope_on_loop(data):
        with session_scope(data.engine) as session:
            session.commit()

    async def bare_lane(data):
        await data.lanes.run(1, read)

    class Sender:
        def settle(self, data):
            read(data)

        async def run(self, data):
            self.settle(data)
    """
    elsewhere = """
    from bot.handlers.m import indirect
    from bot.handlers import m

    async def imported(data):
        indirect(data)

    async def by_module(data):
        m.read(data)
    """
    assert _found(m=READ + dedent(here), other=elsewhere) == {
        "direct",
        "helper",
        "chain",
        "thread",
        "nested",
        "in_lambda",
        "Sender.run",
        "unit_on_loop",
        "scope_on_loop",
        "bare_lane",
        "imported",
        "by_module",
    }


def test_the_scan_lets_the_lanes_through() -> None:
    here = """
    async def named(data):
        await data.run_unit(1, read)

    async def in_lambda(data):
        await data.run_unit(1, lambda: indirect(data))

    async def nested(data):
        def work():
            with data.session() as session:
                pass
        await data.run_unit(None, work)

    async def partial(data):
        await data.run_unit(1, functools.partial(read, data))

    async def lambda_opens(data):
        await data.run_unit(1, lambda: data.session().close())

    async def in_a_unit(data):
        def work(unit):
            unit.commit()
        await data.run_unit(1, work)

    async def unit_in_lane(data):
        def work():
            with UnitOfWork(data.engine) as unit:
                unit.commit()
        await data.run_unit(1, work)

    def sync_only(data):
        return indirect(data)
    """
    assert _found(m=READ + dedent(here)) == set()
