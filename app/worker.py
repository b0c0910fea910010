"""A headless worker: runs only the executor, the dispatcher and schedules (scale-out).

SIGTERM or SIGINT drains it: no new claims, in-flight steps finish (up to the drain timeout),
then it exits 0. Any worker may also die at once: its leases expire and others take over.
"""

from __future__ import annotations

import logging
import signal
import threading

from app.migrations import upgrade_to_head
from app.scheduler import Background
from app.settings import get_settings

DRAIN_TIMEOUT_S = 30.0
HEARTBEAT_S = 30.0

log = logging.getLogger("app.worker")


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = get_settings()
    upgrade_to_head()
    background = Background(settings)
    stop = threading.Event()

    def request_stop(signum: int, _frame: object) -> None:
        log.info("signal %s: draining", signum)
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    background.start()
    log.info("worker %s started", background.executor.owner)
    while not stop.wait(HEARTBEAT_S):
        log.info("worker %s alive, %d steps in flight", background.executor.owner,
                 background.executor.in_flight)
    background.stop(drain_timeout_s=DRAIN_TIMEOUT_S)
    log.info("worker %s stopped", background.executor.owner)


if __name__ == "__main__":
    main()
