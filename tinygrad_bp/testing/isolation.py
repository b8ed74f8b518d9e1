"""Run one check of a graded engine so that nothing the engine does can stop the grader.

``run_isolated(check, timeout)`` calls ``check()`` in a child process made by
``os.fork()`` and returns its outcome, a ``(status, detail)`` pair of strings:

- whatever ``check()`` returns;
- ``("fail", "RuntimeError: ...")`` for any exception that escapes it, BaseException
  included: SystemExit, KeyboardInterrupt raised by the engine itself, GeneratorExit;
- ``("fail", "timed out after 5 s")`` when it runs longer than ``timeout`` seconds:
  the child is killed, whether it loops in Python or in C;
- ``("fail", "the check's process ended without a result (...)")`` when the child
  dies before answering: ``os._exit``, a crash, a signal.

Why a forked child: it is the one design that bounds every kind of hang and
survives every kind of exit. An alarm whose Python handler raises
(``signal.setitimer``) works only in the main thread, only between Python
bytecodes (a loop inside C runs on), and as an exception the engine's own
``except BaseException`` may swallow; a thread cannot be stopped at all; and
neither survives ``os._exit`` or a segfault. A fork needs nothing pickled, so it
grades any class, a class defined inside a test function included, where "spawn"
and "forkserver" would have to import the class again by name in a fresh
interpreter. The costs: a fork per check (a few milliseconds); what a check
changes (the class's attributes, globals, printed output buffers) stays in the
child; and ``os.fork`` exists on POSIX only. Where it does not (Windows), checks
run in this process: exceptions are still caught, but the time limit cannot be
enforced. Forking a process that runs other threads may deadlock the child on a
lock one of them held; the time limit then ends it.

The user's own Ctrl-C belongs to the grader: the child ignores SIGINT, and the
parent, on KeyboardInterrupt, kills the child and lets the interrupt propagate.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from collections.abc import Callable
from multiprocessing import Pipe
from multiprocessing.connection import Connection
from typing import NoReturn

__all__ = ["Outcome", "error_text", "run_isolated"]

Outcome = tuple[str, str]  # (status, detail)
MESSAGE_LIMIT = 500  # characters of an error's message kept in a report
_ANSWER_LIMIT = 1_000_000  # bytes read from a child's answer at most


def error_text(error: BaseException) -> str:
    """``TypeName: message``, the message cut to 500 characters.

    Never raises, whatever the error's ``__str__`` does (a KeyboardInterrupt
    apart, which propagates).

    >>> error_text(KeyError("tanh"))
    "KeyError: 'tanh'"
    >>> error_text(ValueError("x" * 10_000))[-28:]
    'xxxxx... (10,000 characters)'
    """
    try:
        message = str(error)
    except KeyboardInterrupt:
        raise
    except BaseException:  # an engine's exception whose __str__ fails
        message = "(its message could not be printed)"
    if len(message) > MESSAGE_LIMIT:
        message = f"{message[:MESSAGE_LIMIT]}... ({len(message):,} characters)"
    return f"{type(error).__name__}: {message}" if message else type(error).__name__


def _guarded(check: Callable[[], Outcome], catch_interrupt: bool) -> Outcome:
    """``check()``, or a failure naming any exception that escapes it."""
    try:
        return check()
    except KeyboardInterrupt as error:
        if not catch_interrupt:
            raise
        return ("fail", error_text(error))
    except BaseException as error:
        return ("fail", error_text(error))


def _flush_standard_streams() -> None:
    """Flush stdout and stderr, so that buffered text is written once, not once per fork."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (AttributeError, OSError, ValueError):  # no stream, or a closed one
            pass


def _child(
    check: Callable[[], Outcome], reader: Connection, writer: Connection, timeout: float | None
) -> NoReturn:
    """In the forked child: run the check, send its outcome as JSON, exit at once.

    ``os._exit`` skips the parent's atexit handlers and buffered output, which the
    child holds copies of. SIGINT is ignored, so a KeyboardInterrupt here can only
    come from the engine itself; stdin is /dev/null, so an engine reading it ends.
    An alarm a second after the time limit ends the child by itself (SIGALRM's
    default action, which needs no Python code to run) should the grader be gone.
    """
    code = 1
    try:
        reader.close()
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        if timeout is not None:
            signal.signal(signal.SIGALRM, signal.SIG_DFL)
            signal.setitimer(signal.ITIMER_REAL, timeout + 1.0)
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.close(devnull)
        outcome = _guarded(check, catch_interrupt=True)
        _flush_standard_streams()
        writer.send_bytes(json.dumps(outcome).encode())
        code = 0
    finally:
        os._exit(code)


def _receive(reader: Connection, timeout: float | None) -> Outcome | None:
    """The child's outcome; a failure after ``timeout`` s; None if it ended without one."""
    if not reader.poll(timeout):
        return ("fail", f"timed out after {timeout:g} s")
    try:
        status, detail = json.loads(reader.recv_bytes(_ANSWER_LIMIT))
    except (EOFError, OSError, TypeError, ValueError):  # it ended without a whole answer
        return None
    return (str(status), str(detail))


def _end(pid: int) -> int:
    """Kill the child if it still runs, reap it; its exit code (-N: killed by signal N)."""
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def _describe_exit(code: int) -> str:
    """``exit code 3`` or ``killed by SIGSEGV``."""
    if code >= 0:
        return f"exit code {code}"
    try:
        return f"killed by {signal.Signals(-code).name}"
    except ValueError:
        return f"killed by signal {-code}"


def run_isolated(check: Callable[[], Outcome], timeout: float | None) -> Outcome:
    """``check()`` in a forked child: its outcome, or a failure saying what went wrong.

    Args:
        check: returns ``(status, detail)``; runs in the child (on POSIX).
        timeout: seconds before the child is killed, or None for no limit.

    Returns:
        ``check()``'s outcome, or ``("fail", why)`` for an exception, a time-out or
        a child that died.

    Raises:
        KeyboardInterrupt: the user pressed Ctrl-C (the child is killed first).

    >>> run_isolated(lambda: ("pass", "fine"), timeout=5.0)
    ('pass', 'fine')
    >>> run_isolated(lambda: sys.exit(0), timeout=5.0)
    ('fail', 'SystemExit: 0')
    """
    if not hasattr(os, "fork"):
        return _guarded(check, catch_interrupt=False)
    reader, writer = Pipe(duplex=False)
    _flush_standard_streams()
    pid = os.fork()
    if pid == 0:
        _child(check, reader, writer, timeout)
    writer.close()
    try:
        outcome = _receive(reader, timeout)
    finally:
        reader.close()
        code = _end(pid)
    if outcome is None:
        return ("fail", f"the check's process ended without a result ({_describe_exit(code)})")
    return outcome
