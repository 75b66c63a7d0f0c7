"""The load generator of bench/opendata.py: locust as a library, headless, in a process
of its own (it patches the standard library with gevent when imported: ``time.sleep``
then lets the users run).

    python -m bench.opendata_load BASE_URL '["/path", …]' SECONDS USERS [RATE]

RATE (requests per second, all users together) paces the users, as clients arriving at
that rate would; without it each user sends its next request as soon as the last one is
answered (the server's saturation).

Prints one JSON line: requests, failures, requests per second, p50 and p99 (ms).
"""

from __future__ import annotations

import json
import sys
import time

from locust import constant, constant_throughput, task
from locust.contrib.fasthttp import FastHttpUser
from locust.env import Environment


def run(
    base: str, paths: list[str], seconds: float, users: int, rate: float = 0.0
) -> dict[str, float]:
    """Load ``paths`` (in turn, per user) with ``users`` users for ``seconds``, at ``rate``
    requests per second in all (0: as fast as answered)."""

    class Reader(FastHttpUser):
        host = base
        wait_time = constant_throughput(rate / users) if rate else constant(0)

        def on_start(self) -> None:
            self.turn = 0

        @task
        def read(self) -> None:
            self.turn = (self.turn + 1) % len(paths)
            self.client.get(paths[self.turn], name="query")

    env = Environment(user_classes=[Reader])
    runner = env.create_local_runner()
    runner.start(users, spawn_rate=users)
    time.sleep(1)  # every user started, connections open
    env.stats.reset_all()
    start = time.perf_counter()
    time.sleep(seconds)
    elapsed = time.perf_counter() - start
    runner.quit()
    total = env.stats.total
    return {
        "requests": total.num_requests,
        "failures": total.num_failures,
        "rps": total.num_requests / elapsed,
        "p50": total.get_response_time_percentile(0.5) or 0.0,
        "p99": total.get_response_time_percentile(0.99) or 0.0,
    }


if __name__ == "__main__":
    base, paths, seconds, users = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3], sys.argv[4]
    rate = float(sys.argv[5]) if len(sys.argv) > 5 else 0.0
    print(json.dumps(run(base, paths, float(seconds), int(users), rate)))
