"""The package's folders and the direction of its imports (docs/ARCHITECTURE.md).

Every import in every module counts, those inside functions too: an import hidden in a function
is still a cycle, and still a lower layer reaching up into a higher one.
"""

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).parents[1] / "src" / "lowlight"
#: Each folder's layer: a module may import its own folder and lower layers only (the top-level
#: modules are the basics, layer 0; media and models are side by side and import neither).
LAYERS = {"": 0, "media": 1, "models": 1, "core": 2, "research": 3, "batch": 3, "training": 4, "server": 5,
          "cli": 6}
ENTRY = {"lowlight.__main__"}  # `python -m lowlight`: the CLI itself


def _module(path: Path) -> str:
    parts = path.relative_to(PKG.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """The lowlight modules ``path`` imports (resolved, at any depth in the file)."""
    module = _module(path)
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] != "lowlight":
                continue
            for alias in node.names:  # `from . import x` may name a module
                sub = f"{target}.{alias.name}"
                found.add(sub if _exists(sub) else target)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == "lowlight")
    found.discard(module)
    return found


def _exists(module: str) -> bool:
    rel = Path(*module.split(".")[1:])
    return (PKG / rel).with_suffix(".py").is_file() or (PKG / rel / "__init__.py").is_file()


def _graph() -> dict[str, set[str]]:
    return {_module(p): _imports(p) for p in PKG.rglob("*.py")}


def _folder(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 2 or (len(parts) == 2 and (PKG / parts[1]).is_dir()) else ""


def test_the_folders_are_the_documented_ones():
    folders = {p.name for p in PKG.iterdir() if (p / "__init__.py").is_file()}
    assert folders == set(LAYERS) - {""}
    doc = (PKG.parents[1] / "docs" / "ARCHITECTURE.md").read_text()
    assert all(f"`{name}/`" in doc for name in folders)


def test_imports_only_go_down_the_layers():
    upward = []
    for module, targets in _graph().items():
        if module in ENTRY or module == "lowlight":
            continue
        for target in targets:
            if target == "lowlight":  # the package itself: __version__
                continue
            mine, theirs = _folder(module), _folder(target)
            if mine != theirs and LAYERS[theirs] >= LAYERS[mine]:
                upward.append(f"{module} -> {target}")
    assert not upward, "imports that reach up or sideways: " + ", ".join(sorted(upward))


def test_there_is_no_import_cycle():
    graph = _graph()
    state: dict[str, int] = {}
    cycles = []

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        for nxt in graph.get(node, ()):
            if nxt in ENTRY or nxt == "lowlight":
                continue
            if state.get(nxt) == 1:
                cycles.append(" -> ".join(stack[stack.index(nxt):] + [nxt]) if nxt in stack else nxt)
            elif nxt not in state:
                visit(nxt, stack + [nxt])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    assert not cycles, "import cycles: " + "; ".join(cycles)


@pytest.mark.parametrize("module", ["lowlight.media.photo", "lowlight.media.video"])
def test_media_knows_nothing_of_models_or_the_core(module):
    assert not {t for t in _graph()[module] if _folder(t) in ("core", "models")}
