"""The imports of the package flow one way: no module imports one above it.

Only module-level imports count: a display hook that imports ``viz`` on use
(``Value._repr_svg_``) is how a lower layer reaches a higher one without
depending on it.
"""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "tinygrad_bp"

# From the bottom up; a module may import from its own layer's package and below.
LAYERS = [
    ["validate", "files"],
    ["graph"],
    ["engine"],
    ["functions"],
    ["tensor"],
    ["closures"],
    ["autodiff"],
    ["report", "delta", "data"],
    ["perceptron", "expression"],
    ["nn"],
    ["losses"],
    ["optim"],
    ["tracing"],
    ["train"],
    ["check"],
    ["explain"],
    ["landscape"],
    ["viz"],
    ["xor"],
    ["testing"],
    ["interop"],
    ["watch"],
    ["course"],
    ["cli"],
    ["__main__", "__init__"],
]
LAYER = {name: height for height, names in enumerate(LAYERS) for name in names}


def top_name(path: Path) -> str:
    """The first-level name of a module of the package: nn/modules.py -> 'nn'."""
    return path.relative_to(PACKAGE).parts[0].removesuffix(".py")


def module_level_imports(path: Path) -> set[str]:
    """First-level package names imported at the top of ``path`` (relative imports)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    inside_package = path.parent != PACKAGE
    names = set()
    for node in tree.body:
        if not isinstance(node, ast.ImportFrom) or node.level == 0:
            continue
        if node.level == 1 and inside_package:
            continue  # a sibling in the same package
        base = (node.module or "").split(".")[0]
        if base:
            names.add(base)
        else:  # from . import a, b
            names.update(alias.name for alias in node.names)
    return names


SOURCES = sorted(p for p in PACKAGE.rglob("*.py"))


def test_every_module_has_a_layer():
    assert {top_name(path) for path in SOURCES} <= set(LAYER)


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_imports_one_above_it(path):
    own = top_name(path)
    upward = [
        name for name in module_level_imports(path) if name in LAYER and LAYER[name] > LAYER[own]
    ]
    assert not upward, f"{path.name} ({own}) imports {upward}, above it"


def test_the_oracle_imports_only_numpy():
    tree = ast.parse((PACKAGE / "delta.py").read_text(encoding="utf-8"))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            imported.add("." if node.level else (node.module or "").split(".")[0])
    assert imported <= {"numpy", "__future__", "collections", "typing"}
