"""OpenCV's detectors, lent to one thread at a time and kept across threads.

A cascade classifier or a DNN keeps its working state in the object, so two threads must never use one at
once ("getScaleData" assertions, index errors). Kept per thread, they were loaded again (38 ms for the three
cascades and the face network) by every new worker thread, and a service's worker threads come and go
(anyio retires a thread idle for 10 s): the first submissions after a pause paid for it. A pool lends each
instance to one caller at a time and keeps it for the next, whatever thread that is; it holds as many as
were ever in use at once.
"""

from __future__ import annotations

import queue
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Generic, TypeVar

T = TypeVar("T")


class Pool(Generic[T]):
    def __init__(self, make: Callable[[], T]) -> None:
        self._make = make
        self._free: queue.SimpleQueue[T] = queue.SimpleQueue()

    @contextmanager
    def lent(self) -> Iterator[T]:
        """An instance no other caller holds until this one gives it back (made when none is free)."""
        try:
            item = self._free.get_nowait()
        except queue.Empty:
            item = self._make()
        try:
            yield item
        finally:
            self._free.put(item)
