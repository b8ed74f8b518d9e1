"""The exercise markup of the course's notebooks, on plain cell text.

A solution is written between ``### BEGIN SOLUTION`` and ``### END SOLUTION``,
nbgrader's markers, so that a teacher can hand the solutions build to nbgrader
as it is. The student build replaces each such region by a stub that leaves
the cell runnable, so that only the exercise's check cell fails, saying what
is missing:

- inside a function (an indented region): ``raise NotImplementedError(...)``
  naming the function, raised when the check calls it;
- at the top of a cell: each name the solution assigns, set to ``...``
  (Ellipsis), which the check recognises as "not answered yet".

(nbgrader's own stub raises at the top of a cell too; its markers and cell
metadata are the same, so ``nbgrader generate_assignment`` works on the
solutions build unchanged.)
"""

from __future__ import annotations

import ast
import re

BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"
YOUR_CODE = "# YOUR CODE HERE"

_REGION = re.compile(
    rf"^(?P<indent>[ \t]*){re.escape(BEGIN)}[ \t]*\n(?P<body>.*?)^[ \t]*{re.escape(END)}[ \t]*$\n?",
    re.DOTALL | re.MULTILINE,
)
_DEF = re.compile(r"^(?P<indent>[ \t]*)(?:async[ \t]+)?def[ \t]+(?P<name>\w+)", re.MULTILINE)


def has_solution(source: str) -> bool:
    """Whether a cell's text holds a solution region.

    >>> has_solution("x = 1\\n### BEGIN SOLUTION\\ny = 2\\n### END SOLUTION\\n")
    True
    >>> has_solution("x = 1")
    False
    """
    return _REGION.search(source) is not None


def assigned_names(code: str) -> list[str]:
    """The names a top-level piece of code assigns, in order, each once.

    >>> assigned_names("a = 1\\nb, c = 2, 3\\na += 1")
    ['a', 'b', 'c']
    """
    names: list[str] = []
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            if node.id not in names:
                names.append(node.id)
    return names


def _enclosing(before: str, depth: int) -> str:
    """The dotted name of the functions that enclose a line indented by ``depth``,
    from the ``def`` lines before it: ``__mul__._backward()``."""
    names: list[str] = []
    for match in reversed(list(_DEF.finditer(before))):
        if len(match["indent"]) < depth:
            names.insert(0, match["name"])
            depth = len(match["indent"])
    return ".".join(names) + "()" if names else ""


def _stub(source: str, region: re.Match[str]) -> str:
    indent, body = region["indent"], region["body"]
    if indent:
        where = _enclosing(source[: region.start()], len(indent)) or "this function"
        message = f"exercise: write the body of {where} (between the solution markers)"
        return f"{indent}{YOUR_CODE}\n{indent}raise NotImplementedError({message!r})\n"
    names = assigned_names(body)
    if not names:
        raise ValueError(f"a top-level solution region must assign a name:\n{body}")
    return "".join(f"{name} = ...  {YOUR_CODE}\n" for name in names)


def student_source(source: str) -> str:
    """A cell's text with every solution region replaced by its stub.

    >>> cell = "def g(z):\\n    ### BEGIN SOLUTION\\n    return 2 * z\\n    ### END SOLUTION\\n"
    >>> print(student_source(cell))
    def g(z):
        # YOUR CODE HERE
        raise NotImplementedError('exercise: write the body of g() (between the solution markers)')
    <BLANKLINE>
    >>> inner = ["    def _backward():", "        " + BEGIN, "        pass", "        " + END]
    >>> "write the body of mul._backward()" in student_source("\\n".join(["def mul(a):", *inner]))
    True
    >>> print(student_source("### BEGIN SOLUTION\\nw = [1, 2]\\nb = 3\\n### END SOLUTION\\n"))
    w = ...  # YOUR CODE HERE
    b = ...  # YOUR CODE HERE
    <BLANKLINE>
    """
    return _REGION.sub(lambda region: _stub(source, region), source)
