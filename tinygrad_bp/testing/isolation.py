"""The sandbox: a child process that holds the student's class and answers with numbers only.

The grader never imports, calls or even compares anything of the student's in
its own process. ``EngineProcess`` forks a child that imports the student's
module (or takes the class the caller passed), then answers requests such as
"compute ``a * b`` at (0.5, -2) and backpropagate" with plain numbers: the
output, the gradients, or the name of the exception the engine raised. The
parent compares those numbers with oracles it computes itself. So the child can
send wrong numbers, or none, but never a verdict: there is nothing in the
protocol that means "pass", and a missing or malformed answer is a failure.

What the child is allowed (set up before any student code runs):

- its own process group, with the child as a *subreaper*, so that every process
  the engine forks stays in a tree the parent can find and kill whole
  (``_kill_tree``: stop every descendant, then SIGKILL them all);
- ``PR_SET_PDEATHSIG``: if the grader dies (an engine may kill it), the child dies
  too instead of running on as an orphan; an alarm a second after the time
  limit ends it by itself as well;
- limits (``resource.setrlimit``): address space (``memory`` bytes more than it
  inherited), file size (``OUTPUT_LIMIT``; SIGXFSZ ignored so that a write fails
  instead of killing), no core files, no new processes (``RLIMIT_NPROC`` 0, which
  Linux does not apply to root: the process tree is killed whole anyway);
- stdin ``/dev/null``; stdout and stderr into a private file whose first
  ``OUTPUT_LIMIT`` bytes the report may show, never onto the grader's streams;
  every other inherited file descriptor closed, so the engine cannot write into
  the caller's pipes or files;
- a private working directory, no bytecode written: nothing lands in the
  student's folder.

The channel: length-prefixed JSON frames on two pipes made for this child
alone, one each way; each request carries a fresh random ``id`` its answer must
echo, and an answer longer than ``ANSWER_LIMIT`` bytes, not JSON, or out of
turn ends the child (the case fails).

On systems without ``os.fork`` (Windows) the grader cannot isolate anything and
refuses to run (``IsolationUnavailable``).
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import secrets
import select
import signal
import struct
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any, NoReturn

try:
    import resource
except ImportError:  # Windows: no limits, and no fork either (IsolationUnavailable)
    resource = None  # type: ignore[assignment]

__all__ = [
    "ANSWER_LIMIT",
    "MESSAGE_LIMIT",
    "OUTPUT_LIMIT",
    "EngineGone",
    "EngineProcess",
    "IsolationUnavailable",
    "OutOfTime",
    "error_text",
]

MESSAGE_LIMIT = 500  # characters of an error's message kept in a report
ANSWER_LIMIT = 1_000_000  # bytes of one answer from the child at most
OUTPUT_LIMIT = 1 << 20  # bytes the child may print (and write to any file)
OUTPUT_SHOWN = 2_000  # bytes of what it printed kept for the report
MEMORY = 1 << 30  # bytes of address space the child may add to what it inherits
_HEADER = struct.Struct(">I")
_PR_SET_PDEATHSIG = 1
_PR_SET_CHILD_SUBREAPER = 36


class IsolationUnavailable(RuntimeError):
    """This system cannot fork, so student code cannot be isolated."""


class EngineGone(Exception):
    """The child ended, or answered something that is not a well-formed frame."""


class OutOfTime(BaseException):
    """The check's time ran out (a BaseException, so that Hypothesis lets it through)."""


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
    return f"{type(error).__name__}: {_cut(message)}" if message else type(error).__name__


def _cut(text: str) -> str:
    """``text``, cut to ``MESSAGE_LIMIT`` characters with a note of its length."""
    if len(text) <= MESSAGE_LIMIT:
        return text
    return f"{text[:MESSAGE_LIMIT]}... ({len(text):,} characters)"


# -- framing --------------------------------------------------------------------------


def _write_frame(fd: int, message: object) -> None:
    """Send ``message`` as JSON behind a 4-byte length."""
    body = json.dumps(message).encode()
    data = _HEADER.pack(len(body)) + body
    while data:
        data = data[os.write(fd, data) :]


def _read_exactly(fd: int, size: int, deadline: float | None) -> bytes:
    """``size`` bytes from ``fd``; OutOfTime after ``deadline``, EngineGone at end of file."""
    chunks, missing = [], size
    while missing:
        wait = None if deadline is None else max(0.0, deadline - time.monotonic())
        ready, _, _ = select.select([fd], [], [], wait)
        if not ready:
            raise OutOfTime
        chunk = os.read(fd, min(missing, 1 << 16))
        if not chunk:
            raise EngineGone("ended without a whole answer")
        chunks.append(chunk)
        missing -= len(chunk)
    return b"".join(chunks)


def _read_frame(fd: int, deadline: float | None) -> Any:
    """One JSON frame; EngineGone if it is too long or not JSON."""
    (size,) = _HEADER.unpack(_read_exactly(fd, _HEADER.size, deadline))
    if size > ANSWER_LIMIT:
        raise EngineGone(f"sent an answer of {size:,} bytes (the limit is {ANSWER_LIMIT:,})")
    try:
        return json.loads(_read_exactly(fd, size, deadline))
    except ValueError:
        raise EngineGone("sent an answer that is not JSON") from None


# -- the child ------------------------------------------------------------------------


def _prctl(option: int, value: int) -> None:
    """Linux's prctl(option, value), or nothing where there is none."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(option, value, 0, 0, 0)


def _address_space() -> int | None:
    """This process's virtual memory size in bytes (Linux), or None."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


def _limit(which: int, value: int) -> None:
    """Lower a resource limit (never raise it above the hard limit)."""
    if resource is None:
        return
    with contextlib.suppress(ValueError, OSError):
        _, hard = resource.getrlimit(which)
        if hard != resource.RLIM_INFINITY:
            value = min(value, hard)
        resource.setrlimit(which, (value, hard))


def _confine(
    parent: int, keep: tuple[int, ...], output: int, workdir: str, seconds: float | None
) -> None:
    """Everything the child does to itself before any student code runs (module docstring)."""
    os.setpgid(0, 0)
    _prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    _prctl(_PR_SET_CHILD_SUBREAPER, 1)
    if os.getppid() != parent:  # the grader died before PDEATHSIG was set
        os._exit(1)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the user's Ctrl-C belongs to the grader
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # an over-long write fails, not kills
    if seconds is not None:
        signal.signal(signal.SIGALRM, signal.SIG_DFL)
        signal.setitimer(signal.ITIMER_REAL, seconds + 1.0)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.dup2(output, 1)
    os.dup2(output, 2)
    kept = sorted({0, 1, 2, *keep})
    for low, high in zip(kept, [*kept[1:], os.sysconf("SC_OPEN_MAX")]):
        os.closerange(low + 1, high)
    inherited = _address_space()
    if inherited is not None:
        _limit(resource.RLIMIT_AS, inherited + MEMORY)
    _limit(resource.RLIMIT_FSIZE, OUTPUT_LIMIT)
    _limit(resource.RLIMIT_CORE, 0)
    _limit(resource.RLIMIT_NPROC, 0)
    os.chdir(workdir)
    sys.dont_write_bytecode = True


def _serve(
    load: Callable[[], object],
    answer: Callable[[object, Any], Any],
    requests: int,
    answers: int,
) -> NoReturn:
    """The child's loop: load the class, then answer each request; exit at end of file.

    Each answer carries the ``id`` of its request. If loading failed, every
    answer is ``{"load_error": ...}``.
    """
    try:
        engine: object = None
        failed = ""
        try:
            engine = load()
        except KeyboardInterrupt as error:  # raised by the module itself: SIGINT is ignored
            failed = error_text(error)
        except BaseException as error:
            failed = error_text(error)
        while True:
            try:
                request = _read_frame(requests, None)
            except EngineGone:
                break
            reply = {"load_error": failed} if failed else answer(engine, request)
            _write_frame(answers, {**reply, "id": request.get("id")})
    finally:
        os._exit(0)


# -- the parent -----------------------------------------------------------------------


def _process_table() -> dict[int, tuple[int, int]]:
    """pid -> (parent pid, process group) of every process (Linux /proc), or {}."""
    table = {}
    with contextlib.suppress(OSError):
        for name in os.listdir("/proc"):
            if not name.isdigit():
                continue
            try:
                with open(f"/proc/{name}/stat") as stat:
                    fields = stat.read().rpartition(")")[2].split()
            except OSError:
                continue
            table[int(name)] = (int(fields[1]), int(fields[2]))
    return table


def _tree(root: int) -> set[int]:
    """``root``, its descendants and the members of its process group."""
    table = _process_table()
    found = {root} | {pid for pid, (_, group) in table.items() if group == root}
    grew = True
    while grew:
        more = {pid for pid, (parent, _) in table.items() if parent in found} - found
        found |= more
        grew = bool(more)
    return found


def _signal_all(pids: set[int], signum: int) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signum)


def _kill_tree(root: int) -> int:
    """Stop ``root`` and everything it started (until no new process appears), kill all.

    Returns ``root``'s wait status.
    """
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(root, signal.SIGSTOP)
    stopped: set[int] = set()
    for _ in range(20):
        tree = _tree(root)
        if tree <= stopped:
            break
        _signal_all(tree - stopped, signal.SIGSTOP)
        stopped |= tree
    _signal_all(stopped, signal.SIGKILL)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(root, signal.SIGKILL)
    status = os.waitpid(root, 0)[1]
    others = stopped - {root}
    for _ in range(100):  # SIGKILL is delivered asynchronously: wait (1 s at most) for it
        if not any(_running(pid) for pid in others):
            break
        time.sleep(0.01)
    return status


def _running(pid: int) -> bool:
    """Whether ``pid`` exists and is not a zombie (Linux /proc)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rpartition(")")[2].split()[0] not in ("Z", "X")
    except (OSError, IndexError):
        return False


def _describe_exit(status: int) -> str:
    """``exit code 3`` or ``killed by SIGSEGV``."""
    code = os.waitstatus_to_exitcode(status)
    if code >= 0:
        return f"exit code {code}"
    try:
        return f"killed by {signal.Signals(-code).name}"
    except ValueError:
        return f"killed by signal {-code}"


class EngineProcess:
    """One sandboxed child holding the student's class; ``ask`` sends a request, gets numbers.

    ``load()`` runs in the child and returns the class (importing the student's
    module there); ``answer(engine, request)`` runs in the child and returns a
    JSON-able dict. Use as a context manager: leaving it kills the child and
    everything it started. ``hello`` is the child's answer to ``{"kind":
    "hello"}``, or ``{"load_error": ...}`` when loading failed.

    >>> def load(): return float
    >>> def answer(engine, request): return {"twice": 2 * engine(request.get("x", 0))}
    >>> with EngineProcess(load, answer, seconds=5.0) as child:
    ...     child.hello
    {'twice': 0.0}
    >>> with EngineProcess(load, answer, seconds=5.0) as child:
    ...     child.ask({"x": 1.5})
    {'twice': 3.0}
    """

    def __init__(
        self,
        load: Callable[[], object],
        answer: Callable[[object, Any], Any],
        seconds: float | None,
    ) -> None:
        if not hasattr(os, "fork"):
            raise IsolationUnavailable("grading needs os.fork (POSIX): it cannot isolate here")
        self.deadline = None if seconds is None else time.monotonic() + seconds
        self._workdir = tempfile.TemporaryDirectory(prefix="grader-")
        self._output = tempfile.TemporaryFile(prefix="grader-output-")
        request_read, self._requests = os.pipe()
        self._answers, answer_write = os.pipe()
        _flush_standard_streams()
        parent = os.getpid()
        pid = os.fork()
        if pid == 0:
            try:
                keep = (request_read, answer_write)
                _confine(parent, keep, self._output.fileno(), self._workdir.name, seconds)
            except BaseException:
                os._exit(1)
            _serve(load, answer, request_read, answer_write)
        self.pid = pid
        with contextlib.suppress(OSError):
            os.setpgid(pid, pid)  # also here: no race with the child's own setpgid
        os.close(request_read)
        os.close(answer_write)
        self.hello: dict[str, Any] = {}
        self.exit = ""  # how the child ended, once it has
        self.printed = ""  # the first OUTPUT_SHOWN characters it printed, once it has ended

    def __enter__(self) -> EngineProcess:
        try:
            self.hello = self.ask({"kind": "hello"})
        except EngineGone as error:
            self.hello = {"load_error": f"the engine's process {error} while loading"}
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def ask(self, request: dict[str, Any]) -> Any:
        """The child's answer to ``request`` (a dict).

        The request carries a fresh random ``id`` that the answer must carry back:
        anything the engine wrote into the channel before it saw the request (at
        import, say) is not an answer to it.

        Raises:
            OutOfTime: the deadline passed (the child is killed).
            EngineGone: the child ended or sent a malformed frame (it is killed).
        """
        nonce = secrets.token_hex(8)
        try:
            _write_frame(self._requests, {**request, "id": nonce})
            reply = _read_frame(self._answers, self.deadline)
            if not isinstance(reply, dict) or reply.pop("id", None) != nonce:
                raise EngineGone("answered out of turn")
            return reply
        except (BrokenPipeError, EngineGone) as error:
            self.close()
            raise EngineGone(f"{error} ({self.exit})") from None
        except BaseException:
            self.close()
            raise

    @property
    def alive(self) -> bool:
        """Whether the child has not been closed."""
        return not self.exit

    def close(self) -> None:
        """Kill the child and everything it started; close the pipes. Idempotent."""
        if self.exit:
            return
        self.exit = _describe_exit(_kill_tree(self.pid))
        for fd in (self._requests, self._answers):
            with contextlib.suppress(OSError):
                os.close(fd)
        self._output.seek(0)
        self.printed = self._output.read(OUTPUT_SHOWN).decode(errors="replace")
        self._output.close()
        self._workdir.cleanup()


def _flush_standard_streams() -> None:
    """Flush stdout and stderr, so that buffered text is written once, not once per fork."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (AttributeError, OSError, ValueError):  # no stream, or a closed one
            pass
