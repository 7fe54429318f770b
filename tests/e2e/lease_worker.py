"""The command `incluster lease run` runs in tests/e2e/test_lease.py, and the Python contender.

    lease_worker.py cmd IDENTITY LOG STOP       # as `lease run`'s CMD: runs while leading
    lease_worker.py contend NAME IDENTITY LOG STOP   # a contender on Client.leader_election

Both append "IDENTITY start|end UNIXTIME" lines to LOG for the leadership interval and exit
0 once STOP exists (the CMD also on SIGTERM, which `lease run` sends when leadership is lost).
"""

from __future__ import annotations

import os
import signal
import sys
import time
from types import FrameType
from typing import Optional


def log(path: str, identity: str, what: str) -> None:
    with open(path, "a") as f:
        f.write(f"{identity} {what} {time.time():.6f}\n")


def cmd(identity: str, path: str, stop: str) -> int:
    def on_term(sig: int, frame: Optional[FrameType]) -> None:
        log(path, identity, "end")
        os._exit(0)

    signal.signal(signal.SIGTERM, on_term)
    log(path, identity, "start")
    while not os.path.exists(stop):
        time.sleep(0.05)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    log(path, identity, "end")
    return 0


def contend(name: str, identity: str, path: str, stop: str) -> int:
    import incluster

    leading = [False]

    def stopped(reason: str) -> None:
        if leading[0]:
            leading[0] = False
            log(path, identity, "end")
        print(f"{identity}: stopped leading: {reason}", file=sys.stderr)

    client = incluster.Client()
    with client.leader_election(name, identity=identity, lease_duration=8, renew_deadline=6,
                                retry_period=1, on_stopped=stopped) as lead:
        leading[0] = True
        log(path, identity, "start")
        while not lead.lost.is_set():
            if os.path.exists(stop):
                # The interval ends before the release that leaving the block makes.
                leading[0] = False
                log(path, identity, "end")
                return 0
            lead.lost.wait(0.05)
    return 10


if __name__ == "__main__":
    if sys.argv[1] == "cmd":
        sys.exit(cmd(*sys.argv[2:5]))
    sys.exit(contend(*sys.argv[2:6]))
