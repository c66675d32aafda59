"""The official client's (lonelypsc) notify load for `deno task bench` (scenario `client`):
the HTTP client publishing with `concurrency` notifies in flight. Same output
protocol as loadgen.ts: MEASURE when the warm-up ends, then one JSON result line.

Usage: python bench/client_notify.py '{"url":…,"topic":…,"concurrency":16,"durationS":3,
  "warmupS":0.5,"size":64}' (run with the interop venv: it reuses tests/interop/scenario.py)
"""

import asyncio
import json
import os
import socket
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "interop"))

from scenario import http_client  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def main() -> None:
    job = json.loads(sys.argv[1])
    secrets = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results", "client-none-secrets.json")
    os.makedirs(os.path.dirname(secrets), exist_ok=True)
    with open(secrets, "w") as f:
        json.dump({"version": "2"}, f)
    client = http_client(free_port(), job["url"], secrets)
    await client.__aenter__()
    body = b"x" * job["size"]
    topic = job["topic"].encode()
    state = {"measuring": False, "stop": False, "errors": 0, "first": None}
    latencies = []

    async def worker() -> None:
        while not state["stop"]:
            t0 = time.perf_counter()
            try:
                await client.notify(trace_initializer=None, topic=topic, data=body)
                if state["measuring"]:
                    latencies.append((time.perf_counter() - t0) * 1000)
            except Exception as e:  # noqa: BLE001
                if state["measuring"]:
                    state["errors"] += 1
                if state["first"] is None:
                    state["first"] = repr(e)

    tasks = [asyncio.create_task(worker()) for _ in range(job["concurrency"])]
    await asyncio.sleep(job["warmupS"])
    state["measuring"] = True
    print("MEASURE", flush=True)
    t0 = time.perf_counter()
    await asyncio.sleep(job["durationS"])
    state["measuring"] = False
    duration = time.perf_counter() - t0
    state["stop"] = True
    await asyncio.gather(*tasks)
    await client.__aexit__(None, None, None)
    latencies.sort()

    def q(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] if latencies else float("nan")

    print(json.dumps({
        "requests": len(latencies), "errors": state["errors"], "firstError": state["first"],
        "durationS": duration, "rps": len(latencies) / duration, "p50ms": q(0.5), "p99ms": q(0.99),
    }), flush=True)


asyncio.run(main())
