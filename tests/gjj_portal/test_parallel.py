"""gjj_portal.parallel: pure per-row work over several forked processes, in order, or in this process."""

import os
import threading

import pytest

from gjj_portal import parallel


@pytest.fixture
def forkable(monkeypatch):
    """The browser tests leave their live server's thread in this process, which would keep fork_map in
    one process; that thread holds nothing a forked chunk needs, so these tests fork regardless."""
    monkeypatch.setattr(parallel, "can_fork", lambda: True)


pytestmark = pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")


def pids_and_squares(chunk, done):
    for n in range(1, len(chunk) + 1):
        done(n)
    return [(os.getpid(), x * x) for x in chunk]


def test_chunks_come_back_in_order_from_several_processes(settings, forkable):
    settings.GJJ_IMPORT_PROCESSES = 3
    seen = []
    chunks = parallel.fork_map(pids_and_squares, list(range(30)), min_chunk=5, on_progress=seen.append)
    assert len(chunks) == 3
    assert [square for chunk in chunks for _pid, square in chunk] == [x * x for x in range(30)]
    pids = {pid for chunk in chunks for pid, _square in chunk}
    # this process checks the first chunk itself, forked ones the rest (one of them may take both)
    assert {pid for pid, _square in chunks[0]} == {os.getpid()} and len(pids) >= 2
    assert seen[-1] == 30  # progress counts every process's rows


def test_few_items_stay_in_this_process(settings, forkable):
    settings.GJJ_IMPORT_PROCESSES = 4
    chunks = parallel.fork_map(pids_and_squares, list(range(30)), min_chunk=20)
    assert len(chunks) == 1 and {pid for pid, _ in chunks[0]} == {os.getpid()}


def test_with_another_thread_running_nothing_is_forked(settings):
    settings.GJJ_IMPORT_PROCESSES = 2
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        chunks = parallel.fork_map(pids_and_squares, list(range(30)), min_chunk=5)
    finally:
        stop.set()
        other.join()
    assert len(chunks) == 1 and {pid for pid, _ in chunks[0]} == {os.getpid()}


def fails_in_the_second_chunk(chunk, done):
    if chunk[0] >= 10:
        raise ValueError("第二块出错")
    return chunk


def test_an_error_in_a_forked_chunk_is_raised_here(settings, forkable):
    settings.GJJ_IMPORT_PROCESSES = 2
    with pytest.raises(ValueError, match="第二块出错"):
        parallel.fork_map(fails_in_the_second_chunk, list(range(20)), min_chunk=5)


def test_this_process_keeps_its_database_connection_after_the_children_end(db, settings, forkable):
    from django.db import connection

    settings.GJJ_IMPORT_PROCESSES = 3
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    backend = connection.connection
    assert len(parallel.fork_map(pids_and_squares, list(range(30)), min_chunk=5)) == 3
    with connection.cursor() as cursor:
        cursor.execute("SELECT 2")
        assert cursor.fetchone() == (2,) and connection.connection is backend
