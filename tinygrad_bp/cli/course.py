"""``course``: write the course's notebooks into a folder that Jupyter opens.

The notebooks are built from the MyST sources shipped inside the package
(``tinygrad_bp.course``), so this works from an installed package as from a clone.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ..course import CourseToolsMissing, sources, write_course
from .arguments import UsageError, path_text


def add_parser(commands: Any) -> None:
    course = commands.add_parser(
        "course",
        help="write the course's notebooks into a folder to open in Jupyter",
        description=f"Write the {len(sources())} notebooks of the course, the student version "
        "(exercises to fill in, each followed by a cell that checks it), into DIR. Needs the "
        'course extra: pip install "tinygrad_bp[course]".',
    )
    course.add_argument("dir", type=path_text, metavar="DIR", help="the folder (created if needed)")
    course.add_argument(
        "--solutions", action="store_true", help="the teacher's version, with the solutions"
    )
    course.add_argument("--force", action="store_true", help="overwrite notebooks already there")
    course.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    folder = Path(args.dir)
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"{args.dir} exists and is not a directory")
    version = "solutions" if args.solutions else "student"
    try:
        written = write_course(folder, version, force=args.force)
    except (FileExistsError, CourseToolsMissing) as error:
        raise UsageError(str(error)) from None
    print(f"wrote {len(written)} notebooks ({version}) to {folder}")
    print(f"open them with: jupyter lab {folder}   (start with {written[0].name})")
    return 0
