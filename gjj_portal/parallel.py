"""Pure per-row work of a large file spread over this machine's cores (the import check).

The work is split into one chunk per process. This process checks the first chunk itself while
forked copies check the others: a fork shares the rows and the loaded context with the children
copy-on-write, so only the results travel back (pickled). The work function must be pure: it must
not touch the database (a child holds a copy of this process's connection, and nothing else), and
anything random it needs (nonces, UUIDs) it must draw inside the chunk, from os.urandom, never
from state made before the fork.

Fork is used only where it is safe and pays: on a platform with fork, with more than one core, for
enough rows, and when this is the process's only thread (a fork copies the locks other threads may
hold; development's threaded server checks in-process instead)."""

import math
import multiprocessing
import os
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor

from django.conf import settings
from django.db import connections

MIN_CHUNK = 2000  # fewer rows than this per process are checked faster in one process than forked

# (work, chunks, progress slots) of the running fork_map, inherited by its children
_JOB: tuple | None = None


def processes() -> int:
    """Processes for one file: GJJ_IMPORT_PROCESSES, by default the cores this process may use."""
    configured = getattr(settings, "GJJ_IMPORT_PROCESSES", None)
    if configured:
        return max(1, int(configured))
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def can_fork() -> bool:
    return hasattr(os, "fork") and threading.active_count() == 1


def fork_map(work: Callable[[list, Callable[[int], None]], list], items: list, *, min_chunk: int | None = None,
             on_progress: Callable[[int], None] | None = None) -> list[list]:
    """work(chunk, done) for consecutive chunks of items; returns each chunk's result, in order.

    `done(n)` is called by work as it goes (n = items of its chunk done so far); on_progress gets
    the total over all processes, from this process. An exception in any chunk is raised here."""
    count = min(processes(), len(items) // max(min_chunk or MIN_CHUNK, 1)) if can_fork() else 1
    if count < 2:
        return [work(items, on_progress or _ignore)]
    size = math.ceil(len(items) / count)
    chunks = [items[start:start + size] for start in range(0, len(items), size)]
    context = multiprocessing.get_context("fork")
    slots = context.RawArray("q", len(chunks))  # items done per chunk, shared memory

    def done_here(n: int) -> None:
        slots[0] = n
        if on_progress is not None:
            on_progress(sum(slots))

    global _JOB
    _JOB = (work, chunks, slots)
    try:
        with ProcessPoolExecutor(max_workers=len(chunks) - 1, mp_context=context, initializer=_forget_connections) as pool:
            futures = [pool.submit(_run_chunk, index) for index in range(1, len(chunks))]
            results = [work(chunks[0], done_here)]
            results.extend(future.result() for future in futures)
    finally:
        _JOB = None
    if on_progress is not None:
        on_progress(sum(slots))
    return results


def _ignore(_n: int) -> None:
    pass


_INHERITED: list = []


def _forget_connections() -> None:
    """In a child: set aside (never close) the copies of the parent's database connections, so that a
    query by mistake opens a connection of its own instead of talking over the parent's socket. They
    are kept referenced, so they are never finalised here; the child ends with os._exit."""
    for connection in connections.all(initialized_only=True):
        if connection.connection is not None:
            _INHERITED.append(connection.connection)
            connection.connection = None


def _run_chunk(index: int) -> list:
    work, chunks, slots = _JOB

    def done(n: int) -> None:
        slots[index] = n

    return work(chunks[index], done)
