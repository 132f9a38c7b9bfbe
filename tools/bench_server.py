#!/usr/bin/env python3
"""Load test for `verdict serve` (standard library only; a benchmark, not a test).

Usage: python tools/bench_server.py URL FILE.tsv [--clients 8] [--limit 872] [--column sentence]

Each of CLIENTS threads posts one text per request to URL/predict (with "truncate": true) until
the texts run out; prints texts/s, latency percentiles, and how many forward passes the server
ran (from /metrics), i.e. how much it batched concurrent requests.
"""
import argparse, csv, json, sys, threading, time, urllib.request

csv.field_size_limit(sys.maxsize)


def metric(base, name):
    text = urllib.request.urlopen(base + "/metrics").read().decode()
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return 0.0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("url")
    ap.add_argument("file")
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--column", default="sentence")
    args = ap.parse_args()
    with open(args.file, newline="", encoding="utf-8") as f:
        texts = [r[args.column] for r in csv.DictReader(f, delimiter="\t")]
    if args.limit:
        texts = texts[:args.limit]
    base = args.url.rstrip("/")
    batches0, inputs0 = metric(base, "verdict_batches_total"), metric(base, "verdict_inputs_total")
    latencies, lock, nxt = [], threading.Lock(), [0]

    def client():
        while True:
            with lock:
                i = nxt[0]
                nxt[0] += 1
            if i >= len(texts):
                return
            body = json.dumps({"inputs": texts[i], "truncate": True}).encode()
            req = urllib.request.Request(base + "/predict", data=body, headers={"Content-Type": "application/json"})
            t = time.perf_counter()
            urllib.request.urlopen(req).read()
            with lock:
                latencies.append(time.perf_counter() - t)

    start = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(args.clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - start
    latencies.sort()
    pct = lambda p: latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000
    batches = metric(base, "verdict_batches_total") - batches0
    inputs = metric(base, "verdict_inputs_total") - inputs0
    print(json.dumps({"texts": len(texts), "clients": args.clients, "seconds": round(seconds, 3),
                      "texts_per_s": round(len(texts) / seconds, 1), "p50_ms": round(pct(0.5), 2),
                      "p95_ms": round(pct(0.95), 2), "p99_ms": round(pct(0.99), 2),
                      "forward_passes": int(batches), "inputs_per_pass": round(inputs / batches, 2) if batches else None}))


if __name__ == "__main__":
    main()
