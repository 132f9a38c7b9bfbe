#!/usr/bin/env python3
"""Checks for `verdict serve` under load, overload, hostile bodies and time (standard library only).

Each subcommand starts `verdict serve --port 0 ...` itself (or uses a running server with --url),
talks raw HTTP/1.1 over keep-alive asyncio connections, prints a table and then one JSON summary
line, and exits with status 1 when the check fails.

    python3 tools/serve_check.py load                      # 64 connections, 20,000 SST-2 sentences,
                                                           # vs `verdict classify --batch-size 32`
    python3 tools/serve_check.py load -C 8 -R 2000 --verdict .build/release/verdict
    python3 tools/serve_check.py overload -C 256 -N 5000   # small queue: only 200 and JSON 429 allowed
    python3 tools/serve_check.py fuzz --seed 7 --count 2000 # 200 or JSON 4xx only; RSS must stay flat
    python3 tools/serve_check.py soak --seconds 600 -C 16  # RSS every 10 s; last vs first minute
    python3 tools/serve_check.py load --url http://127.0.0.1:8080 --pid 1234

Server options go one per --server-arg, written with '=': --server-arg=--max-batch-inputs=8.
"""
import argparse, asyncio, copy, csv, json, os, random, re, subprocess, sys, tempfile, threading, time
from collections import Counter
from urllib.parse import urlsplit

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
JSON_CT = {"Content-Type": "application/json"}
ROUTES = ["/predict", "/tokenize", "/embed", "/rerank", "/decode"]
csv.field_size_limit(sys.maxsize)


# ----------------------------------------------------------------------------- HTTP client

class Closed(Exception):
    """The server closed or reset the connection before sending any byte of an answer."""


class Conn:
    """One HTTP/1.1 keep-alive connection, opened lazily and reopened after a close."""

    def __init__(self, host, port, timeout=60.0):
        self.host, self.port, self.timeout = host, port, timeout
        self.reader = self.writer = None

    async def close(self):
        if self.writer is not None:
            self.writer.close()
            try:
                await self.writer.wait_closed()
            except Exception:
                pass
        self.reader = self.writer = None

    async def request(self, method, path, body=b"", headers=JSON_CT):
        """(status, headers, body). A reused connection found closed is retried once on a new one."""
        for retry in (False, True):
            reused = self.writer is not None
            try:
                return await asyncio.wait_for(self._once(method, path, body, headers), self.timeout)
            except BaseException as e:
                await self.close()
                if not isinstance(e, Closed) or not reused or retry:
                    raise

    async def _once(self, method, path, body, headers):
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port, limit=1 << 20)
        head = {"Host": f"{self.host}:{self.port}", "Content-Length": str(len(body)), **(headers or {})}
        lines = [f"{method} {path} HTTP/1.1"] + [f"{k}: {v}" for k, v in head.items()]
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        try:
            await self.writer.drain()
        except OSError:
            pass  # the server may answer (413) and stop reading before the whole body is sent
        try:
            status_line = await self.reader.readline()
        except OSError as e:
            raise Closed(f"{type(e).__name__} before an answer")
        if not status_line:
            raise Closed("closed before an answer")
        status = int(status_line.split()[1])
        hdrs = {}
        while (line := await self.reader.readline()) not in (b"\r\n", b"\n", b""):
            k, _, v = line.decode("latin-1").partition(":")
            hdrs[k.strip().lower()] = v.strip()
        if "chunked" in hdrs.get("transfer-encoding", ""):
            data = b""
            while (size := int((await self.reader.readline()).split(b";")[0], 16)):
                data += await self.reader.readexactly(size + 2)
                data = data[:-2]
            await self.reader.readline()
        elif "content-length" in hdrs:
            data = await self.reader.readexactly(int(hdrs["content-length"]))
        else:
            data = await self.reader.read()
            hdrs["connection"] = "close"
        if hdrs.get("connection", "").lower() == "close":
            await self.close()
        return status, hdrs, data


def is_json_error(body):
    """True for a JSON object with string "error" and "error_type"."""
    try:
        obj = json.loads(body)
    except ValueError:
        return False
    return isinstance(obj, dict) and isinstance(obj.get("error"), str) and isinstance(obj.get("error_type"), str)


# ----------------------------------------------------------------------------- server process

class Server:
    """`verdict serve --port 0 ARGS` as a child process, or a running server (--url, --pid)."""

    def __init__(self, args, defaults=()):
        self.proc, self.pid, self.url = None, args.pid, args.url
        if not args.url:
            given = {a.split("=")[0] for a in args.server_arg}
            extra = [x for opt, val in zip(defaults[::2], defaults[1::2]) if opt not in given for x in (opt, val)]
            self.cmd = [args.verdict, "serve", "--port", "0", *extra, *args.server_arg]
            self.log = tempfile.TemporaryFile()
            self.proc = subprocess.Popen(self.cmd, stdout=subprocess.PIPE, stderr=self.log, text=True)
            line = self.proc.stdout.readline()
            match = re.search(r" on (http://\S+)", line)
            if not match:
                self.stop()
                sys.exit(f"server did not start: {line!r}\n{self.stderr()}")
            self.url, self.pid = match.group(1), self.proc.pid
            threading.Thread(target=self.proc.stdout.read, daemon=True).start()
        self.url = self.url.rstrip("/")
        parts = urlsplit(self.url)
        self.host, self.port = parts.hostname, parts.port or 80

    def conn(self, timeout=60.0):
        return Conn(self.host, self.port, timeout)

    def alive(self):
        return self.proc is None or self.proc.poll() is None

    def stderr(self):
        self.log.seek(0)
        return self.log.read().decode(errors="replace")[-2000:]

    def rss_mb(self):
        """Resident set size of the server process from /proc/PID/status, or None."""
        try:
            with open(f"/proc/{self.pid}/status") as f:
                kb = next(int(l.split()[1]) for l in f if l.startswith("VmRSS:"))
            return round(kb / 1024, 1)
        except (OSError, StopIteration, TypeError):
            return None

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


async def get(srv, path, body=None):
    """One request on a new connection: GET, or POST of a JSON body; (status or error name, headers, body)."""
    conn = srv.conn(30)
    try:
        return await conn.request("POST" if body else "GET", path, body or b"", JSON_CT if body else {})
    except Exception as e:
        return type(e).__name__, {}, b""
    finally:
        await conn.close()


# ----------------------------------------------------------------------------- load driver

async def metrics(srv):
    """Unlabelled samples of GET /metrics as {name: value}."""
    body = (await get(srv, "/metrics"))[2].decode()
    return {p[0]: float(p[1]) for p in map(str.split, body.splitlines()) if len(p) == 2 and p[0][0] != "#"}


class Stats:
    """Answers by status, latencies of 200s, and how well-formed the refusals were."""

    def __init__(self):
        self.status, self.lat, self.retry_after, self.bad_body = Counter(), [], Counter(), Counter()
        self.example, self.seconds = {}, 0.0

    def add(self, status, latency, headers, body):
        self.status[status] += 1
        if status == 200:
            self.lat.append(latency)
            return
        self.retry_after[status] += "retry-after" in headers
        self.bad_body[status] += not is_json_error(body)
        self.example.setdefault(status, body[:160].decode(errors="replace"))

    def errors(self):
        return sum(n for s, n in self.status.items() if s != 200)

    def pct(self, p):
        lat = sorted(self.lat)
        return round(lat[min(len(lat) - 1, int(p * len(lat)))] * 1000, 1) if lat else None


async def drive(srv, texts, connections, total=None, seconds=None):
    """POST texts (cycled) one per request to /predict over `connections` connections."""
    st, nxt = Stats(), 0
    deadline = time.monotonic() + seconds if seconds else None

    async def worker():
        nonlocal nxt
        conn = srv.conn()
        while (total is None or nxt < total) and (deadline is None or time.monotonic() < deadline):
            body = json.dumps({"inputs": texts[nxt % len(texts)], "truncate": True}).encode()
            nxt += 1
            t = time.perf_counter()
            try:
                status, headers, data = await conn.request("POST", "/predict", body)
            except Exception as e:
                st.status[f"conn:{type(e).__name__}"] += 1
                continue
            st.add(status, time.perf_counter() - t, headers, data)
        await conn.close()

    t0 = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(connections)))
    st.seconds = time.perf_counter() - t0
    return st


def read_texts(args):
    with open(args.data, newline="", encoding="utf-8") as f:
        return [r[args.column].replace("\n", " ") for r in csv.DictReader(f, delimiter="\t")]


def table(rows, head=None):
    rows = [[str(c) for c in r] for r in ([head] if head else []) + rows]
    widths = [max(len(r[i]) for r in rows if i < len(r)) for i in range(max(map(len, rows)))]
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())


def finish(check, ok, summary, problems):
    """Print the problems and the JSON summary line; return the exit status."""
    for p in problems:
        print("FAIL:", p)
    print(json.dumps({"check": check, "ok": ok, **summary, "problems": problems}))
    return 0 if ok else 1


def server_info(srv):
    """A problem if the server process died during the check."""
    return [] if srv.alive() else [f"server exited with status {srv.proc.poll()}: {srv.stderr()}"]


# ----------------------------------------------------------------------------- load

def offline_baseline(args, texts):
    """Time `verdict classify --batch-size 32` over the texts, one per line on stdin (model load included)."""
    model = [a for i, a in enumerate(args.server_arg) for opt in ("--model", "--dtype")
             if a.startswith(opt + "=") or a == opt or (i and args.server_arg[i - 1] == opt)]
    with tempfile.TemporaryFile() as f:
        f.write("".join(t + "\n" for t in texts).encode())
        f.seek(0)
        t = time.perf_counter()
        done = subprocess.run([args.verdict, "classify", "--batch-size", "32", *model], stdin=f,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        seconds = time.perf_counter() - t
    if done.returncode:
        return None, f"verdict classify failed: {done.stderr.decode()[-300:]}"
    return seconds, None


def cmd_load(args):
    texts = read_texts(args)
    with Server(args) as srv:
        m0 = asyncio.run(metrics(srv))
        st = asyncio.run(drive(srv, texts, args.connections, total=args.requests))
        m1 = asyncio.run(metrics(srv))
        problems = server_info(srv)
    passes = m1.get("verdict_batches_total", 0) - m0.get("verdict_batches_total", 0)
    inputs = m1.get("verdict_batched_inputs_total", 0) - m0.get("verdict_batched_inputs_total", 0)
    distinct = list(dict.fromkeys(texts))
    off_s, err = offline_baseline(args, distinct) if os.path.exists(args.verdict) else (None, "no binary")
    rps = sum(st.status.values()) / st.seconds
    off = len(distinct) / off_s if off_s else None
    s = {"requests": sum(st.status.values()), "connections": args.connections, "errors": st.errors(),
         "statuses": {str(k): v for k, v in st.status.items()}, "seconds": round(st.seconds, 2),
         "req_per_s": round(rps, 1), "p50_ms": st.pct(.5), "p90_ms": st.pct(.9), "p99_ms": st.pct(.99),
         "forward_passes": int(passes), "inputs_per_pass": round(inputs / passes, 2) if passes else None,
         "offline_texts": len(distinct), "offline_s": off_s and round(off_s, 2),
         "offline_texts_per_s": off and round(off, 1), "server_over_offline": off and round(rps / off, 2)}
    table([[k, v] for k, v in s.items()])
    if err:
        print("offline baseline:", err)
    if st.errors():
        problems.append(f"{st.errors()} errors: {dict(st.status)} e.g. {st.example}")
    return finish("load", not problems, s, problems)


# ----------------------------------------------------------------------------- overload

def cmd_overload(args):
    texts = read_texts(args)
    with Server(args, ["--max-queued-inputs", "16", "--max-batch-inputs", "8"]) as srv:
        st = asyncio.run(drive(srv, texts, args.connections, total=args.requests))
        health = asyncio.run(get(srv, "/health"))[0]
        problems = server_info(srv)
    other = {str(k): v for k, v in st.status.items() if k not in (200, 429)}
    s = {"requests": sum(st.status.values()), "connections": args.connections, "ok_200": st.status[200],
         "overloaded_429": st.status[429], "other": other, "429_json_body": st.status[429] - st.bad_body[429],
         "429_retry_after": st.retry_after[429], "seconds": round(st.seconds, 2),
         "p50_ms_200": st.pct(.5), "p99_ms_200": st.pct(.99), "health_after": health}
    table([[k, v] for k, v in s.items()])
    if other:
        problems.append(f"statuses other than 200/429: {other} e.g. {st.example}")
    if st.bad_body[429]:
        problems.append(f"{st.bad_body[429]} answers 429 without a JSON error body: {st.example[429]!r}")
    if st.status[429] and not st.retry_after[429]:
        print("note: 429 answers carry no Retry-After header")
    if health != 200:
        problems.append(f"GET /health after overload answered {health}")
    return finish("overload", not problems, s, problems)


# ----------------------------------------------------------------------------- fuzz

VALID = {
    "/predict": [{"inputs": "I really love this book", "truncate": True, "raw_scores": False},
                 {"inputs": ["A man is eating.", "Someone eats."]},
                 {"inputs": [["great"], ["good", "bad"]], "truncate": False}],
    "/tokenize": [{"inputs": "hello world", "add_special_tokens": True}, {"inputs": ["a b", "c"]}],
    "/embed": [{"inputs": "hello", "normalize": True, "truncate": False},
               {"inputs": ["a", "b"], "normalize": False, "truncate": True}],
    "/rerank": [{"query": "what is it", "texts": ["it is a", "b"], "raw_scores": False,
                 "return_text": True, "truncate": True}],
    "/decode": [{"ids": [101, 7592, 102], "skip_special_tokens": True},
                {"ids": [[101, 102], [7592]], "skip_special_tokens": False}],
}
WRONG = [None, True, False, 0, -1, 3.5, "", "x", [], {}, [None], {"a": 1}, 10 ** 400, -(10 ** 400),
         2 ** 64, "@1e999999", "@-1e999999", "@1e-999999"]
BAD_UTF8 = [b"\xff", b"\xc0\xaf", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xe2\x82", b"\x80abc", b"\xfe\xfe",
            b"\xf0\x9f\x98", b"\x00", b"\\ud800", b"\\udc00x", b"\\ud800\\u0041", b"\\u0000", b"\x1b\x07"]


def dump(obj):
    """JSON text of obj, with strings "@1e999999" written as bare numbers."""
    return re.sub(r'"@([-0-9e.]+)"', r"\1", json.dumps(obj, ensure_ascii=False)).encode("utf-8", "surrogatepass")


def paths(obj, at=()):
    yield at
    items = obj.items() if isinstance(obj, dict) else enumerate(obj) if isinstance(obj, list) else ()
    for k, v in items:
        yield from paths(v, at + (k,))


def at(obj, path):
    return obj if not path else at(obj[path[0]], path[1:])


def jtype(v):
    return float if isinstance(v, str) and v.startswith("@") else type(v)


def replaced(obj, path, value, delete=False):
    if not path:
        return value
    obj = copy.deepcopy(obj)
    parent = obj
    for k in path[:-1]:
        parent = parent[k]
    if delete:
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return obj


def fuzz_cases(rng, count, limit):
    """Systematic bodies, then random ones up to `count`; (bodies, [(kind, route, body, headers)]) where
    bodies that are wrong for every route are sent to every route."""
    cases = []
    for route, bodies in VALID.items():
        for valid in bodies:
            cases += [("valid", None, dump(valid), JSON_CT)]
            for path in paths(valid):
                cases += [("wrong-type", route, dump(replaced(valid, path, w)), JSON_CT) for w in WRONG
                          if jtype(w) != jtype(at(valid, path))]
                if path and isinstance(path[-1], str):
                    cases.append(("missing-key", route, dump(replaced(valid, path, None, True)), JSON_CT))
            cases.append(("unknown-key", route, dump({**valid, "zzz": [1, {"a": None}]}), JSON_CT))
    for edge in ["", " ", [], [[]], [["a", "b", "c"]], ["a"] * 33, [["a"]] * 33, [["a b " * 400]] * 32]:
        cases += [("edge", r, dump({"inputs": edge}), JSON_CT) for r in ("/predict", "/tokenize", "/embed")]
    cases += [("edge", "/decode", dump({"ids": ids}), JSON_CT) for ids in ([], [[]], [-1], [2 ** 31], [2 ** 63], [1.5])]
    cases += [("edge", "/rerank", dump({"query": "q", "texts": t}), JSON_CT) for t in ([], [""], ["a"] * 1000)]
    for d in (100, 1000, 10_000, 100_000):
        for body in (b"[" * d + b"]" * d, b'{"a":' * d + b"1" + b"}" * d, b"[" * d,
                     b'{"inputs": ' + b"[" * d + b'"x"' + b"]" * d + b"}", b'{"ids": ' + b"[" * d + b"1" + b"]" * d + b"}"):
            cases.append(("deep", None, body, JSON_CT))
    n = 900_000
    for obj in ({"inputs": "a " * n, "truncate": True}, {"inputs": "x" * 2 * n, "truncate": True},
                {"inputs": "é😀" * (n // 3), "truncate": True}, {"inputs": "word " * (n // 3)},
                {"inputs": [["a b " * 50_000]] * 9, "truncate": True}, {"query": "a " * n, "texts": ["b"]},
                {"ids": [1996] * (n // 3)}):
        cases.append(("huge-string", None, dump(obj), JSON_CT))
    cases.append(("huge-string", None, b'{"inputs": "' + b"\\u00e9" * (n // 3) + b'", "truncate": true}', JSON_CT))
    for num in (b"1e999999", b"-1e999999", b"1" * 400, b"-" + b"9" * 400, b"1" * 100_000, b"1e-999999", b"-0"):
        cases += [("huge-number", None, num, JSON_CT), ("huge-number", None, b'{"inputs": "a", "truncate": ' + num + b"}", JSON_CT)]
    for bad in BAD_UTF8:
        cases += [("utf8", None, b'{"inputs": "ok ' + bad + b' ok"}', JSON_CT),
                  ("utf8", None, b'{"in' + bad + b'puts": "ok"}', JSON_CT), ("utf8", None, bad + b'{"inputs": "x"}', JSON_CT)]
    cases += [("utf8", None, '{"inputs": "hi"}'.encode("utf-16"), JSON_CT),
              ("utf8", None, b'\xef\xbb\xbf{"inputs": "hi"}', JSON_CT)]
    for ct in ({}, {"Content-Type": "text/plain"}, {"Content-Type": "application/x-www-form-urlencoded"},
               {"Content-Type": "multipart/form-data; boundary=x"}, {"Content-Type": "application/json; charset=latin-1"},
               {"Content-Type": "image/png"}):
        cases += [("content-type", r, dump(VALID[r][0]), ct) for r in ROUTES]
    cases += [("empty", None, b"", JSON_CT), ("empty", None, b"", {}), ("empty", None, b"null", JSON_CT)]
    for size in (limit + 1, 3 * limit):
        cases.append(("over-limit", None, b'{"inputs": "' + b"a" * (size - 14) + b'"}', JSON_CT))
    valid_bodies = [(r, dump(b)) for r, bs in VALID.items() for b in bs]
    while len(cases) < count:
        route, body = rng.choice(valid_bodies)
        kind = rng.choice(["random-bytes", "truncated", "mutated", "random-json"])
        if kind == "random-bytes":
            body = rng.randbytes(rng.randrange(0, 300))
        elif kind == "truncated":
            body = body[:rng.randrange(len(body))]
        elif kind == "mutated":
            body = bytearray(body)
            for _ in range(rng.randint(1, 5)):
                body[rng.randrange(len(body))] = rng.choice(b'{}[]",:0123456789aenulltrue\\ \xff')
            body = bytes(body)
        else:
            body = dump(replaced(json.loads(body), rng.choice(list(paths(json.loads(body)))), random_json(rng, 4)))
        cases.append((kind, rng.choice(ROUTES), body, JSON_CT))
    return len(cases), [(kind, r, body, h) for kind, route, body, h in cases for r in ([route] if route else ROUTES)]


def random_json(rng, depth):
    if depth == 0 or rng.random() < 0.4:
        return rng.choice(WRONG + ["\u0000", "\ud83d\ude00", "a" * rng.randrange(1000)])
    if rng.random() < 0.5:
        return [random_json(rng, depth - 1) for _ in range(rng.randrange(4))]
    return {rng.choice(["inputs", "ids", "query", "texts", "truncate", "x"]): random_json(rng, depth - 1)
            for _ in range(rng.randrange(4))}


async def run_fuzz(srv, cases, connections, absent):
    """Send the cases kind by kind; returns ({route: Counter(status)}, failures, [(kind, requests, settled RSS after)])."""
    by_route, failures, rss = {r: Counter() for r in ROUTES}, [], []

    async def worker(queue):
        conn = srv.conn(60)
        while queue:
            kind, route, body, headers = queue.pop()
            try:
                status, _, data = await conn.request("POST", route, body, headers)
            except Exception as e:
                status, data = type(e).__name__, b""
            by_route[route][status] += 1
            if not (status == 200 or (status == 404 and route in absent)
                    or (isinstance(status, int) and 400 <= status < 500 and is_json_error(data))):
                failures.append((route, kind, status, body[:80], data[:120]))
        await conn.close()

    for kind in dict.fromkeys(k for k, *_ in cases):
        queue = [c for c in reversed(cases) if c[0] == kind]
        n = len(queue)
        await asyncio.gather(*(worker(queue) for _ in range(connections)))
        await get(srv, "/predict", b'{"inputs": "settle"}')  # the model ran: the server will idle and hand memory back
        await asyncio.sleep(SETTLE_S)
        rss.append((kind, n, srv.rss_mb()))
    return by_route, failures, rss


# The server returns freed memory to the system half a second after it goes idle (InferenceQueue).
SETTLE_S = 1.5


def cmd_fuzz(args):
    rng = random.Random(args.seed)
    limit = next((int(a.split("=")[1]) for a in args.server_arg if a.startswith("--max-request-bytes=")), 2 << 20)
    bodies, cases = fuzz_cases(rng, args.count, limit)
    texts = read_texts(args) if os.path.exists(args.data) else ["I really love this book"] * 200
    with Server(args) as srv:
        absent = [r for r in ROUTES if asyncio.run(get(srv, r, dump(VALID[r][0])))[0] == 404]
        asyncio.run(drive(srv, texts, 4, total=200))
        time.sleep(SETTLE_S)  # resident memory once the server has gone idle, before and after
        rss0, t0 = srv.rss_mb(), time.perf_counter()
        by_route, failures, rss = asyncio.run(run_fuzz(srv, cases, args.connections, absent))
        seconds = time.perf_counter() - t0
        health = asyncio.run(get(srv, "/health"))[0]
        predict = asyncio.run(get(srv, "/predict", b'{"inputs": "I really love this book"}'))
        after = asyncio.run(drive(srv, texts, 4, total=200))
        time.sleep(SETTLE_S)
        rss1 = srv.rss_mb()
        problems = server_info(srv)
    statuses = sorted({s for c in by_route.values() for s in c}, key=str)
    table([[r] + [by_route[r][s] for s in statuses] for r in ROUTES], ["route"] + statuses)
    print()
    table([["warm-up", 200, rss0]] + rss, ["kind", "requests", "rss_mb_after"])
    for f in failures[:12]:
        print("failure:", *f)
    if failures:
        kinds = Counter(f"{f[1]} {f[2]}" for f in failures)
        problems.append(f"{len(failures)} bad answers (5xx, non-JSON 4xx, dropped, timeout): {dict(kinds)}")
    if health != 200:
        problems.append(f"GET /health after fuzz answered {health}")
    if predict[0] != 200 or b"label" not in predict[2]:
        problems.append(f"a normal /predict after fuzz answered {predict[0]} {predict[2][:100]!r}")
    if after.errors():
        problems.append(f"{after.errors()} of 200 valid requests after fuzz failed: {dict(after.status)}")
    growth = round(rss1 / rss0 - 1, 3) if rss0 and rss1 else None
    if growth is not None and growth > 0.10:
        problems.append(f"RSS grew {growth:.0%}: {rss0} -> {rss1} MB")
    s = {"bodies": bodies, "requests": len(cases), "seed": args.seed, "seconds": round(seconds, 1), "failures": len(failures),
         "route_absent": absent, "health_after": health, "predict_after": predict[0],
         "rss_mb_before": rss0, "rss_mb_after": rss1, "rss_growth": growth}
    table([[k, v] for k, v in s.items()])
    return finish("fuzz", not problems, s, problems)


# ----------------------------------------------------------------------------- soak

async def soak_async(srv, texts, args):
    samples = []
    await drive(srv, texts, args.connections, total=200)  # warm-up: the first sample is of a warm server
    task = asyncio.create_task(drive(srv, texts, args.connections, seconds=args.seconds))
    t0 = time.monotonic()
    while not task.done():
        samples.append((round(time.monotonic() - t0), srv.rss_mb()))
        try:
            await asyncio.wait_for(asyncio.shield(task), 10)
        except asyncio.TimeoutError:
            pass
    if samples[-1][0] != round(time.monotonic() - t0):
        samples.append((round(time.monotonic() - t0), srv.rss_mb()))
    return task.result(), samples


def cmd_soak(args):
    texts = read_texts(args)
    with Server(args) as srv:
        st, samples = asyncio.run(soak_async(srv, texts, args))
        problems = server_info(srv)
    table([[t, rss] for t, rss in samples], ["t_s", "rss_mb"])
    window = min(60, args.seconds / 3)  # one minute, or a third of a short run
    rss = [(t, r) for t, r in samples if r is not None]
    first = [r for t, r in rss if t <= window]
    last = [r for t, r in rss if t >= rss[-1][0] - window] if rss else []
    avg = lambda xs: round(sum(xs) / len(xs), 1) if xs else None
    s = {"requests": sum(st.status.values()), "connections": args.connections, "errors": st.errors(),
         "seconds": round(st.seconds, 1), "req_per_s": round(sum(st.status.values()) / st.seconds, 1),
         "p50_ms": st.pct(.5), "p99_ms": st.pct(.99), "rss_mb_start": rss[0][1] if rss else None,
         "rss_mb_end": rss[-1][1] if rss else None, "rss_mb_max": max((r for _, r in rss), default=None),
         "window_s": window, "rss_first_avg": avg(first), "rss_last_avg": avg(last)}
    table([[k, v] for k, v in s.items()])
    if st.errors():
        problems.append(f"{st.errors()} errors: {dict(st.status)} e.g. {st.example}")
    if first and last and avg(last) > 1.10 * avg(first):
        problems.append(f"RSS grew: last {window:g} s average {avg(last)} MB > 110% of first {avg(first)} MB")
    return finish("soak", not problems, s, problems)


# ----------------------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="check", required=True)
    for name, conns in (("load", 64), ("overload", 256), ("fuzz", 4), ("soak", 16)):
        p = sub.add_parser(name)
        p.add_argument("--verdict", default=os.path.join(ROOT, ".build/release/verdict"), help="the binary")
        p.add_argument("--server-arg", action="append", default=[], help="one option for `verdict serve`")
        p.add_argument("--url", help="use this running server instead of starting one")
        p.add_argument("--pid", type=int, help="with --url: the server's process id, for RSS")
        p.add_argument("--data", default=os.path.join(ROOT, "../shared/data/sst2/dev.tsv"), help="TSV of texts")
        p.add_argument("--column", default="sentence")
        p.add_argument("-C", "--connections", type=int, default=conns)
    sub.choices["load"].add_argument("-R", "--requests", type=int, default=20_000)
    sub.choices["overload"].add_argument("-N", "--requests", type=int, default=5_000)
    sub.choices["fuzz"].add_argument("--seed", type=int, default=1)
    sub.choices["fuzz"].add_argument("--count", type=int, default=2_000, help="least number of bodies")
    sub.choices["soak"].add_argument("--seconds", type=float, default=600)
    args = ap.parse_args()
    sys.exit({"load": cmd_load, "overload": cmd_overload, "fuzz": cmd_fuzz, "soak": cmd_soak}[args.check](args))


if __name__ == "__main__":
    main()
