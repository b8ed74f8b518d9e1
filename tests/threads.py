"""Threads for the tests of per-thread modes: a context held open in another thread."""

import contextlib
import threading
from collections.abc import Callable, Iterator
from typing import Any


@contextlib.contextmanager
def held_in_another_thread(context: Callable[[], Any]) -> Iterator[None]:
    """While the block runs, another thread is inside ``with context():``.

    The other thread enters before the block starts and leaves after it ends, so
    the block sees whatever that thread's mode changes leak (if any).
    """
    entered, release = threading.Event(), threading.Event()

    def hold() -> None:
        with context():
            entered.set()
            release.wait(10)

    thread = threading.Thread(target=hold)
    thread.start()
    try:
        assert entered.wait(10), "the other thread never entered its block"
        yield
    finally:
        release.set()
        thread.join(timeout=30)
    assert not thread.is_alive()
