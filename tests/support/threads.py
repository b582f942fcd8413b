"""Run the same work in several threads at the same moment, each on its own connection."""
from __future__ import annotations

import threading
from collections.abc import Callable


def at_once(work: Callable[[threading.Barrier], None], count: int = 2, timeout: float = 120) -> None:
    """Call `work(barrier)` in `count` threads; each waits on the barrier where the race should
    start. Whatever a thread raises is raised here, not lost in the thread."""
    barrier, errors = threading.Barrier(count), []

    def run() -> None:
        try:
            work(barrier)
        except BaseException as error:
            errors.append(error)
            barrier.abort()

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    assert not any(thread.is_alive() for thread in threads), "a thread did not finish"
    if errors:
        raise errors[0]
