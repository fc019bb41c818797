#!/usr/bin/env python3
"""A closed-loop HTTP load generator for model servers: N clients, each posting one image and waiting for the
answer, for a fixed time; optionally a prober that GETs a health URL every 50 ms meanwhile. Prints one JSON
line: requests/s, latency p50/p90/p99 (ms), errors, and the prober's p50/p99.

    python3 bench/peers/serve_load.py --url http://127.0.0.1:8080/invocations --image photo.jpg \\
        --clients 64 --seconds 20 [--warmup 3] [--content-type image/jpeg] [--probe http://127.0.0.1:8080/ping]
"""

import argparse
import http.client
import json
import threading
import time
from urllib.parse import urlparse


def percentile(values, fraction):
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--image", required=True)
    parser.add_argument("--content-type", default="image/jpeg")
    parser.add_argument("--clients", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--warmup", type=float, default=3)
    parser.add_argument("--probe")
    arguments = parser.parse_args()
    body = open(arguments.image, "rb").read()
    target = urlparse(arguments.url)
    start = time.perf_counter()
    measure_from = start + arguments.warmup
    stop_at = measure_from + arguments.seconds
    latencies, errors, probes = [], [0], []
    lock = threading.Lock()

    def client():
        connection = http.client.HTTPConnection(target.hostname, target.port, timeout=300)
        while True:
            began = time.perf_counter()
            if began >= stop_at:
                break
            try:
                connection.request("POST", target.path, body=body, headers={"Content-Type": arguments.content_type})
                response = connection.getresponse()
                response.read()
                ok = response.status == 200
            except (OSError, http.client.HTTPException):
                ok = False
                connection.close()
                connection = http.client.HTTPConnection(target.hostname, target.port, timeout=300)
            ended = time.perf_counter()
            if began >= measure_from and ended <= stop_at:
                with lock:
                    if ok:
                        latencies.append(ended - began)
                    else:
                        errors[0] += 1

    def prober():
        probe = urlparse(arguments.probe)
        connection = http.client.HTTPConnection(probe.hostname, probe.port, timeout=60)
        while time.perf_counter() < stop_at:
            began = time.perf_counter()
            try:
                connection.request("GET", probe.path)
                connection.getresponse().read()
            except (OSError, http.client.HTTPException):
                connection = http.client.HTTPConnection(probe.hostname, probe.port, timeout=60)
            if began >= measure_from:
                probes.append(time.perf_counter() - began)
            time.sleep(0.05)

    threads = [threading.Thread(target=client) for _ in range(arguments.clients)]
    if arguments.probe:
        threads.append(threading.Thread(target=prober))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    ms = lambda value: None if value is None else round(value * 1000, 1)
    print(json.dumps({
        "clients": arguments.clients, "requests": len(latencies), "errors": errors[0],
        "requests_per_s": round(len(latencies) / arguments.seconds, 2),
        "p50_ms": ms(percentile(latencies, 0.5)), "p90_ms": ms(percentile(latencies, 0.9)), "p99_ms": ms(percentile(latencies, 0.99)),
        "probe_p50_ms": ms(percentile(probes, 0.5)), "probe_p99_ms": ms(percentile(probes, 0.99)),
    }), flush=True)


if __name__ == "__main__":
    main()
