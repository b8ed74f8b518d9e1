"""Autograder bundles: ``check-engine --make-autograder gradescope|prairielearn DIR``.

A bundle holds a wheel of tinygrad_bp (``pip wheel --no-deps`` of this source
tree, so the course runs exactly the grader the teacher tried), the grading
options (``grader.json``), the course secret (``secret``: a random one unless
the teacher gives theirs) and the platform's entry points. Nothing in it bears
an answer: the cases are drawn at grading time from the secret and the
student's ID, and their expected values computed then by the oracles.

Gradescope (its autograder specification): zip the files of DIR (not DIR
itself) and upload the zip. ``setup.sh`` installs the wheel once, when the
image is built; ``run_autograder`` grades ``/autograder/submission`` for the
student named in ``/autograder/submission_metadata.json`` and writes
``/autograder/results/results.json``.

PrairieLearn (its external grading): copy ``DIR/serverFilesCourse/tinygrad_bp_grader``
into the course's ``serverFilesCourse`` and merge ``DIR/info.json`` into the
question's ``info.json``. ``run.sh`` grades ``/grade/student`` with the
variant's seed as the student's ID and writes ``/grade/results/results.json``.

Both entry points honour ``GRADER_ROOT`` (instead of ``/autograder`` or
``/grade``) and ``PYTHON``, so a bundle can be tried on a copy of the platform's
tree before it goes to the course.
"""

from __future__ import annotations

import json
import secrets
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

__all__ = ["PLATFORMS", "make_autograder", "options_arguments"]

PLATFORMS = ("gradescope", "prairielearn")
PACKAGE = "tinygrad_bp_grader"  # the folder of the PrairieLearn bundle in serverFilesCourse

_GRADE = """\
OPTIONS=$("$PYTHON" -c 'import json, shlex, sys
from tinygrad_bp.testing.bundle import options_arguments
print(shlex.join(options_arguments(json.load(open(sys.argv[1])))))' "$HERE/grader.json")
eval "set -- $OPTIONS"
"$PYTHON" -m tinygrad_bp check-engine "$@" --student "$STUDENT" --secret-file "$HERE/secret" \\
    --format {form} --output "$RESULTS/results.json"
if [ ! -s "$RESULTS/results.json" ]; then  # the grader itself failed: say so, score 0
    printf '%s\\n' {fallback} > "$RESULTS/results.json"
fi
exit 0
"""

_GRADESCOPE_SETUP = """\
#!/usr/bin/env bash
# Gradescope runs this once, when it builds the autograder's image.
set -eu
cd "$(dirname "$0")"
python3 -m pip install ./{wheel}[testing]
"""

_GRADESCOPE_RUN = (
    """\
#!/usr/bin/env bash
# Gradescope runs this for each submission: grade /autograder/submission.
set -u
ROOT="${{GRADER_ROOT:-/autograder}}"
PYTHON="${{PYTHON:-python3}}"
HERE="$ROOT/source"
RESULTS="$ROOT/results"
mkdir -p "$RESULTS"
STUDENT=$("$PYTHON" -c 'import json, sys
print(json.load(open(sys.argv[1]))["users"][0]["id"])' "$ROOT/submission_metadata.json" \\
    2>/dev/null || echo anonymous)
cd "$ROOT/submission" || exit 0
"""
    + _GRADE
)

_PRAIRIELEARN_RUN = (
    """\
#!/usr/bin/env bash
# PrairieLearn's external grader runs this for each submission: grade /grade/student.
set -u
ROOT="${{GRADER_ROOT:-/grade}}"
PYTHON="${{PYTHON:-python3}}"
HERE="$ROOT/serverFilesCourse/{package}"
RESULTS="$ROOT/results"
mkdir -p "$RESULTS"
if ! "$PYTHON" -c 'import tinygrad_bp.testing' 2>/dev/null; then
    "$PYTHON" -m pip install --quiet "$HERE"/{wheel}[testing]
fi
STUDENT=$("$PYTHON" -c 'import json, sys
print("variant-" + str(json.load(open(sys.argv[1]))["variant_seed"]))' "$ROOT/data/data.json" \\
    2>/dev/null || echo anonymous)
cd "$ROOT/student" || exit 0
"""
    + _GRADE
)


def options_arguments(options: Mapping[str, Any]) -> list[str]:
    """The check-engine arguments that ``grader.json``'s options stand for.

    >>> print(*options_arguments({"spec": "engine:Value", "required": ["add"], "points": {"add": 2},
    ...     "max_examples": 50, "timeout": 10.0, "deadline": None, "hidden": True}))
    engine:Value --require add --points add=2 --max-examples 50 --timeout 10.0 --hidden
    """
    arguments = [str(options["spec"]), "--require", ",".join(options["required"]) or ","]
    if options.get("points"):
        points = ",".join(f"{name}={value:g}" for name, value in options["points"].items())
        arguments += ["--points", points]
    arguments += ["--max-examples", str(options["max_examples"])]
    if options.get("timeout") is not None:
        arguments += ["--timeout", repr(float(options["timeout"]))]
    if options.get("deadline") is not None:
        arguments += ["--deadline", repr(float(options["deadline"]))]
    if options.get("hidden"):
        arguments.append("--hidden")
    return arguments


def _source_tree() -> Path:
    """The project folder this tinygrad_bp was imported from (it must hold pyproject.toml)."""
    root = Path(__file__).resolve().parents[2]
    if not (root / "pyproject.toml").is_file():
        raise ValueError(
            "--make-autograder builds a wheel of tinygrad_bp from its source tree; this one "
            f"was installed without it ({root})"
        )
    return root


def build_wheel(into: Path) -> Path:
    """``pip wheel --no-deps`` of the source tree, built in a copy (the tree stays clean)."""
    root = _source_tree()
    with tempfile.TemporaryDirectory(prefix="grader-wheel-") as scratch:
        copy = Path(scratch) / "project"
        copy.mkdir()
        for name in ("pyproject.toml", "README.md", "LICENSE"):
            if (root / name).is_file():
                shutil.copy2(root / name, copy / name)
        ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
        shutil.copytree(root / "tinygrad_bp", copy / "tinygrad_bp", ignore=ignore)
        command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation"]
        command += ["--quiet", "--wheel-dir", str(into), str(copy)]
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode != 0:
            raise ValueError(f"building the wheel failed: {done.stderr.strip()[-300:]}")
    wheels = sorted(into.glob("tinygrad_bp-*.whl"))
    if not wheels:
        raise ValueError("building the wheel made no tinygrad_bp-*.whl")
    return wheels[-1]


def _write_script(path: Path, text: str) -> None:
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


def _fallback(form: str) -> str:
    """A shell-quoted results.json saying the grader could not run (score 0)."""
    why = "The grader could not run; please tell the course staff."
    if form == "gradescope":
        result: dict[str, Any] = {"score": 0, "output": why, "tests": []}
    else:
        result = {"gradable": False, "score": 0, "format_errors": [why], "tests": []}
    return "'" + json.dumps(result) + "'"


def make_autograder(
    platform: str,
    directory: str | Path,
    spec: str,
    *,
    required: Sequence[str],
    points: Mapping[str, float],
    max_examples: int,
    timeout: float | None,
    deadline: float | None,
    hidden: bool,
    secret: str | None = None,
    wheel: Path | None = None,
) -> Path:
    """Write the ``platform`` bundle grading ``spec`` into ``directory`` (new or empty).

    ``wheel``: an already built wheel to copy in (else one is built). Returns
    the folder written. Raises ValueError for a bad platform, a folder that is
    not empty, or a wheel that cannot be built.
    """
    if platform not in PLATFORMS:
        raise ValueError(f"the platform must be one of {PLATFORMS}, got {platform!r}")
    target = Path(directory)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise ValueError(f"--make-autograder: {target} exists and is not an empty folder")
    here = target if platform == "gradescope" else target / "serverFilesCourse" / PACKAGE
    here.mkdir(parents=True, exist_ok=True)
    if wheel is None:
        wheel = build_wheel(here)
    else:
        shutil.copy2(wheel, here / wheel.name)
    options = {
        "spec": spec,
        "required": list(required),
        "points": dict(points),
        "max_examples": max_examples,
        "timeout": timeout,
        "deadline": deadline,
        "hidden": hidden,
    }
    (here / "grader.json").write_text(json.dumps(options, indent=2) + "\n")
    (here / "secret").write_text((secret or secrets.token_hex(16)) + "\n")
    (here / "secret").chmod(0o600)
    if platform == "gradescope":
        _write_script(here / "setup.sh", _GRADESCOPE_SETUP.format(wheel=wheel.name))
        run = _GRADESCOPE_RUN.format(form="gradescope", fallback=_fallback("gradescope"))
        _write_script(here / "run_autograder", run)
        return target
    run = _PRAIRIELEARN_RUN.format(
        package=PACKAGE, wheel=wheel.name, form="prairielearn", fallback=_fallback("prairielearn")
    )
    _write_script(here / "run.sh", run)
    info = {
        "gradingMethod": "External",
        "externalGradingOptions": {
            "enabled": True,
            "image": "prairielearn/grader-python",
            "serverFilesCourse": [f"{PACKAGE}/"],
            "entrypoint": f"/grade/serverFilesCourse/{PACKAGE}/run.sh",
            "timeout": int(min(3600, (deadline or 600) + 60)),
        },
    }
    (target / "info.json").write_text(json.dumps(info, indent=2) + "\n")
    return target
