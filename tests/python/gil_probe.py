"""Whether a call releases the GIL, seen from Python (the classifier tests).

``ticks_during(work)`` runs `work` in a thread while this one counts ticks of a 1 ms sleep. A
call that holds the GIL stops the count; one that releases it lets the count go on at about a
tick a millisecond (a loaded machine may oversleep, so tests ask for one tick in 20 ms).
"""

import threading
import time


def ticks_during(work):
    """Runs `work()` in another thread; returns (ticks counted meanwhile, seconds it took)."""
    done = threading.Event()
    ticks = 0

    def run():
        try:
            work()
        finally:
            done.set()

    worker = threading.Thread(target=run)
    start = time.perf_counter()
    worker.start()
    while not done.is_set():
        ticks += 1
        time.sleep(0.001)
    worker.join()
    return ticks, time.perf_counter() - start
