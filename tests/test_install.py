"""What the install instructions say agrees with pyproject.toml.

Every ``pip install -e ".[extra]"`` written in the README, the docs, the Makefile,
the examples or the package names an extra that pyproject.toml defines; wherever
the extra pulls in PyTorch, PyTorch's CPU build is installed first (its index
named just before), because the default build on Linux is the CUDA one, about
6 GB with its ``nvidia-*`` packages. And the package metadata uses the SPDX
license string setuptools >= 77 asks for (the table form prints a deprecation
banner at every install).
"""

import re
from pathlib import Path

import pytest
import tomllib

from tinygrad_bp.interop import TORCH_CPU

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
EXTRAS = PYPROJECT["project"]["optional-dependencies"]
CPU_INDEX = "https://download.pytorch.org/whl/cpu"
SOURCES = sorted(
    [
        ROOT / "README.md",
        ROOT / "Makefile",
        ROOT / "pyproject.toml",
        *(ROOT / "docs").glob("*.md"),
        *(ROOT / "examples").glob("*.py"),
        *(ROOT / "tinygrad_bp").rglob("*.py"),
    ]
)
# pip install -e ".[a,b]" (quotes optional), as written in prose, code or strings.
EDITABLE = re.compile(r"""pip install -e ["']?\.\[([\w,-]+)\]""")
# How far before the extra the CPU command (or on its line, --extra-index-url) must come.
NEAR = 400


def install_lines():
    """(file, position, extras) for every editable install of the clone with extras."""
    for path in SOURCES:
        text = path.read_text(encoding="utf-8")
        for match in EDITABLE.finditer(text):
            yield path, text, match


def needs_torch(extra: str) -> bool:
    return any(re.match(r"torch\b", requirement) for requirement in EXTRAS[extra])


def test_the_cpu_command_is_the_one_the_package_prints():
    assert TORCH_CPU == f"pip install torch --index-url {CPU_INDEX}"
    assert needs_torch("interop") and needs_torch("bench")


def test_there_are_install_lines_to_check():
    found = {extra for _, _, match in install_lines() for extra in match.group(1).split(",")}
    assert {"interop", "dev", "plot"} <= found


@pytest.mark.parametrize(
    "path, text, match",
    list(install_lines()),
    ids=lambda v: str(v.relative_to(ROOT)) if isinstance(v, Path) else "",
)
def test_every_install_line_names_an_extra_and_puts_the_cpu_build_of_torch_first(path, text, match):
    extras = match.group(1).split(",")
    assert set(extras) <= set(EXTRAS), f"{path.name}: unknown extra in {match.group(0)}"
    if not any(needs_torch(extra) for extra in extras):
        return
    line_end = text.find("\n", match.end())
    same_line = text[match.start() : line_end if line_end >= 0 else len(text)]
    before = text[max(0, match.start() - NEAR) : match.start()]
    before = re.sub(r"\s+", " ", before)  # a command may wrap across a docstring's lines
    cpu_first = TORCH_CPU in before or "{TORCH_CPU}" in before  # the text, or code naming it
    assert f"--extra-index-url {CPU_INDEX}" in same_line or cpu_first, (
        f"{path.relative_to(ROOT)}: {match.group(0)} pulls PyTorch without its CPU build "
        f"being installed first ({TORCH_CPU})"
    )


def test_the_interop_page_gives_both_commands_in_one_block_in_order():
    page = (ROOT / "docs" / "interop.md").read_text(encoding="utf-8")
    block = re.search(r"```sh\n(.*?)```", page, re.DOTALL)
    assert block is not None
    assert block.group(1).splitlines() == [TORCH_CPU, 'pip install -e ".[interop]"']


def test_the_license_is_an_spdx_string_for_a_setuptools_that_reads_it():
    assert PYPROJECT["project"]["license"] == "MIT"
    requires = PYPROJECT["build-system"]["requires"]
    version = next(r for r in requires if r.startswith("setuptools"))
    assert version == "setuptools>=77"  # the first to read license = "<SPDX>"
    classifiers = PYPROJECT["project"].get("classifiers", [])
    assert not [c for c in classifiers if c.startswith("License ::")]  # both: an error
