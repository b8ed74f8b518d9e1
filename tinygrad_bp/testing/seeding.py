"""Per-student cases: a seed from a course secret and a student's ID.

``student_seed(secret, student)`` is HMAC-SHA256(secret, student) read as a
64-bit integer. The grader draws every case of every check from it (each check
mixes in its name), so the same student gets the same cases and the same
report on every run, another student other numbers, and nobody who lacks the
secret can compute which cases a student will get. The secret is the course's:
``--secret``, or the environment variable ``SECRET_VARIABLE``; the autograder
bundles keep it in a file of their own (``bundle``). It holds no answers: the
expected values are computed at grading time from the drawn inputs.
"""

from __future__ import annotations

import hashlib
import hmac

__all__ = ["SECRET_VARIABLE", "student_seed"]

SECRET_VARIABLE = "TINYGRAD_BP_GRADER_SECRET"
# The key when a course gives no secret: the cases are then still a stable function of
# the ID, as for a practice run, but anyone can compute them (the command says so).
PUBLIC_KEY = "tinygrad_bp: no course secret"


def student_seed(secret: str, student: str) -> int:
    """The seed of ``student``'s cases under the course ``secret``.

    >>> student_seed("course", "alice") == student_seed("course", "alice")
    True
    >>> student_seed("course", "alice") != student_seed("course", "bob")
    True
    >>> student_seed("", "alice") == student_seed("", "alice")  # no secret: still stable
    True
    """
    key = (secret or PUBLIC_KEY).encode()
    digest = hmac.new(key, student.encode(), hashlib.sha256).digest()
    return int.from_bytes(digest[:8], "big")
