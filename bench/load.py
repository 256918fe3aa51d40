#!/usr/bin/env python3
"""Fixed-rate HTTP load for the rehearsals (scripts/rehearse-deploy,
scripts/rehearse-db-outage), and the analysis of what it recorded.

Standard library only (asyncio streams, HTTP/1.1 keep-alive): nothing to
install, and nothing between the measurement and the socket. The load is
open-loop: request i is due at start + i / rate whatever happened to the
earlier ones, and its latency is counted from that due time, so a stalled
server shows up as latency and failures instead of as a quietly lower rate.
The number of requests (rate x duration) and the time of each (--timeout) are
bounded; SIGTERM stops scheduling early and lets in-flight requests finish.

    load.py run --url http://127.0.0.1:8080 --read-token R --write-token W \
        --rate 250 --duration 90 --log requests.tsv
    load.py summarize --log requests.tsv [--from T] [--to T]
    load.py recovery --log requests.tsv --after T
    load.py created-ids --log requests.tsv

Every request is one line of the TSV log: due, start, end (Unix seconds),
kind (list, get, post), HTTP status (0 when there was none), error, payment
id (for a 201) and x-request-id.
"""

import argparse
import asyncio
import json
import math
import random
import signal
import sys
import time
import urllib.parse

FIELDS = ("due", "start", "end", "kind", "status", "error", "payment_id", "request_id")


class HttpError(Exception):
    pass


# A kept-alive connection idle longer than this is closed rather than
# reused: servers and proxies close idle connections on their own (HAProxy
# after `timeout http-keep-alive`), and a request sent as that close crosses
# it would fail for the client's sake, not the server's. Browsers and HTTP
# libraries do the same.
IDLE_SECONDS = 4.0


class Connection:
    def __init__(self, reader, writer):
        self.reader = reader
        self.writer = writer
        self.idle_since = time.monotonic()

    def reusable(self):
        return (
            not self.reader.at_eof()
            and not self.writer.is_closing()
            and time.monotonic() - self.idle_since < IDLE_SECONDS
        )

    def close(self):
        try:
            self.writer.close()
        except Exception:  # already gone
            pass


class Client:
    """A pool of keep-alive HTTP/1.1 connections to one host:port."""

    def __init__(self, host, port, max_in_flight, keep_alive=True):
        self.host = host
        self.port = port
        self.keep_alive = keep_alive
        self.idle = []
        self.slots = asyncio.Semaphore(max_in_flight)

    async def request(self, method, target, headers, body=b""):
        async with self.slots:
            conn = None
            while self.idle and conn is None:
                conn = self.idle.pop()
                if not conn.reusable():
                    conn.close()
                    conn = None
            if conn is None:
                reader, writer = await asyncio.open_connection(self.host, self.port)
                conn = Connection(reader, writer)
            try:
                status, response_headers, payload = await self._exchange(
                    conn, method, target, headers, body
                )
            except BaseException:
                conn.close()
                raise
            if not self.keep_alive or response_headers.get("connection", "").lower() == "close":
                conn.close()
            else:
                conn.idle_since = time.monotonic()
                self.idle.append(conn)
            return status, response_headers, payload

    async def _exchange(self, conn, method, target, headers, body):
        lines = [f"{method} {target} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        if not self.keep_alive:
            lines.append("Connection: close")
        lines += [f"{k}: {v}" for k, v in headers.items()]
        lines.append(f"Content-Length: {len(body)}")
        conn.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        await conn.writer.drain()
        status_line = await conn.reader.readline()
        if not status_line:
            raise HttpError("connection closed before a response")
        parts = status_line.decode("latin-1").split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/"):
            raise HttpError(f"bad status line {status_line[:40]!r}")
        status = int(parts[1])
        response_headers = {}
        while True:
            line = await conn.reader.readline()
            if not line:
                raise HttpError("connection closed in the headers")
            if line in (b"\r\n", b"\n"):
                break
            name, _, value = line.decode("latin-1").partition(":")
            response_headers[name.strip().lower()] = value.strip()
        if response_headers.get("transfer-encoding", "").lower() == "chunked":
            payload = await self._read_chunked(conn.reader)
        elif "content-length" in response_headers:
            payload = await conn.reader.readexactly(int(response_headers["content-length"]))
        elif status in (204, 304) or method == "HEAD":
            payload = b""
        else:
            payload = await conn.reader.read()
            response_headers["connection"] = "close"
        return status, response_headers, payload

    @staticmethod
    async def _read_chunked(reader):
        chunks = []
        while True:
            size = int((await reader.readline()).split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while (await reader.readline()) not in (b"\r\n", b"\n", b""):
                    pass
                return b"".join(chunks)
            chunks.append(await reader.readexactly(size))
            await reader.readexactly(2)

    def close(self):
        for conn in self.idle:
            conn.close()
        self.idle.clear()


def describe(exc):
    if isinstance(exc, asyncio.TimeoutError):
        return "timeout"
    if isinstance(exc, asyncio.IncompleteReadError):
        return "connection closed mid-response"
    text = str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {text}".replace("\t", " ").replace("\n", " ")[:120]


class Load:
    def __init__(self, args):
        url = urllib.parse.urlsplit(args.url)
        if url.hostname not in ("127.0.0.1", "localhost", "::1"):
            sys.exit("load.py: only loopback targets are allowed")
        self.client = Client(
            url.hostname, url.port or 80, args.max_in_flight, keep_alive=not args.no_keep_alive
        )
        self.args = args
        self.read_headers = {"Authorization": f"Bearer {args.read_token}"}
        self.write_headers = {
            "Authorization": f"Bearer {args.write_token}",
            "Content-Type": "application/json",
        }
        self.random = random.Random(args.seed)
        self.ids = []
        self.records = []
        self.stopping = False
        self.run_id = args.run_id or f"load-{int(time.time())}"
        self.kinds = []
        for part in args.mix.split(","):
            kind, _, weight = part.partition("=")
            if kind not in ("list", "get", "post"):
                sys.exit(f"load.py: unknown request kind {kind!r} in --mix")
            self.kinds += [kind] * int(weight or 1)

    async def fetch_some_ids(self):
        """Ids for the `get` requests: the first page, before the load starts."""
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                status, _, body = await asyncio.wait_for(
                    self.client.request("GET", "/api/v1/payments?limit=100", self.read_headers),
                    self.args.timeout,
                )
                if status == 200:
                    self.ids = [p["id"] for p in json.loads(body)["data"]]
                    return
            except Exception:
                pass
            await asyncio.sleep(0.5)
        sys.exit("load.py: could not list payments before starting")

    def request_for(self, index, kind):
        if kind == "list":
            query = "limit=25" if index % 2 else "limit=25&status=succeeded"
            return "GET", f"/api/v1/payments?{query}", self.read_headers, b""
        if kind == "get" and self.ids:
            return "GET", f"/api/v1/payments/{self.random.choice(self.ids)}", self.read_headers, b""
        if kind == "get":
            return "GET", "/api/v1/payments?limit=1", self.read_headers, b""
        body = json.dumps(
            {
                "amount": 100 + self.random.randrange(100000),
                "currency": "USD",
                "method": "card",
                "payer": {"name": "Load Test", "email": f"load+{index}@example.org"},
                "campaign": "rehearsal",
                "metadata": {"run": self.run_id},
            }
        ).encode()
        headers = dict(self.write_headers)
        headers["Idempotency-Key"] = f"{self.run_id}-{index}"
        return "POST", "/api/v1/payments", headers, body

    async def one(self, index, due):
        kind = self.kinds[index % len(self.kinds)]
        method, target, headers, body = self.request_for(index, kind)
        start = time.time()
        status, error, payment_id, request_id = 0, "", "", ""
        try:
            status, response_headers, payload = await asyncio.wait_for(
                self.client.request(method, target, headers, body), self.args.timeout
            )
            request_id = response_headers.get("x-request-id", "")
            if status == 201:
                payment_id = json.loads(payload).get("id", "")
                if payment_id:
                    self.ids.append(payment_id)
            elif status >= 400:
                error = response_headers.get("content-type", "").split(";")[0]
        except Exception as exc:  # every failure is recorded, none stops the run
            error = describe(exc)
        self.records.append((due, start, time.time(), kind, status, error, payment_id, request_id))

    async def run(self):
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGTERM, self.stop)
        await self.fetch_some_ids()
        total = int(self.args.rate * self.args.duration)
        interval = 1.0 / self.args.rate
        tasks = set()
        begin = time.time()
        for index in range(total):
            if self.stopping:
                break
            due = begin + index * interval
            delay = due - time.time()
            if delay > 0:
                await asyncio.sleep(delay)
            task = asyncio.create_task(self.one(index, due))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        if tasks:
            await asyncio.wait(tasks, timeout=self.args.timeout + 5)
        self.client.close()

    def stop(self):
        self.stopping = True


def write_log(path, records):
    with open(path, "w") as out:
        out.write("\t".join(FIELDS) + "\n")
        for r in sorted(records):
            out.write(
                f"{r[0]:.6f}\t{r[1]:.6f}\t{r[2]:.6f}\t{r[3]}\t{r[4]}\t{r[5]}\t{r[6]}\t{r[7]}\n"
            )


def read_log(path):
    rows = []
    with open(path) as log:
        next(log)
        for line in log:
            due, start, end, kind, status, error, payment_id, request_id = line.rstrip(
                "\n"
            ).split("\t")
            rows.append(
                {
                    "due": float(due),
                    "start": float(start),
                    "end": float(end),
                    "kind": kind,
                    "status": int(status),
                    "error": error,
                    "payment_id": payment_id,
                    "request_id": request_id,
                }
            )
    return rows


def failed(row):
    return row["status"] == 0 or row["status"] >= 400


def percentile(values, p):
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(p / 100 * len(ordered)) - 1))]


def summarize(rows):
    latencies = [(r["end"] - r["due"]) * 1000 for r in rows]
    failures = [r for r in rows if failed(r)]
    statuses, errors = {}, {}
    for r in rows:
        statuses[str(r["status"])] = statuses.get(str(r["status"]), 0) + 1
        if r["error"]:
            errors[r["error"]] = errors.get(r["error"], 0) + 1
    span = (max(r["due"] for r in rows) - min(r["due"] for r in rows)) if rows else 0
    ms = lambda v: None if v is None else round(v, 2)  # noqa: E731
    return {
        "sent": len(rows),
        "failed": len(failures),
        "seconds": round(span, 1),
        "rate": round(len(rows) / span, 1) if span else None,
        "p50_ms": ms(percentile(latencies, 50)),
        "p99_ms": ms(percentile(latencies, 99)),
        "max_ms": ms(max(latencies, default=None)),
        "failure_max_ms": ms(max(((r["end"] - r["due"]) * 1000 for r in failures), default=None)),
        "statuses": statuses,
        "errors": errors,
        "created": sum(1 for r in rows if r["status"] == 201),
    }


def command_run(args):
    load = Load(args)
    asyncio.run(load.run())
    write_log(args.log, load.records)
    print(json.dumps(summarize(read_log(args.log))))


def command_summarize(args):
    rows = read_log(args.log)
    windows = [tuple(map(float, w.split(":"))) for w in args.window]
    if args.start is not None:
        rows = [r for r in rows if r["due"] >= args.start]
    if args.end is not None:
        rows = [r for r in rows if r["due"] < args.end]
    if windows:
        rows = [r for r in rows if any(a <= r["due"] < b for a, b in windows)]
    print(json.dumps(summarize(rows)))


def command_recovery(args):
    """Seconds from --after until the first request due after it that
    succeeded, and whether every request due after that one succeeded."""
    rows = sorted((r for r in read_log(args.log) if r["due"] >= args.after), key=lambda r: r["due"])
    first_ok = next((r for r in rows if not failed(r)), None)
    later_failures = (
        sum(1 for r in rows if r["due"] > first_ok["due"] and failed(r)) if first_ok else None
    )
    print(
        json.dumps(
            {
                "seconds": None if first_ok is None else round(first_ok["end"] - args.after, 3),
                "failures_after_first_success": later_failures,
            }
        )
    )


def command_created_ids(args):
    for r in read_log(args.log):
        if r["status"] == 201 and r["payment_id"]:
            print(r["payment_id"])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="send the load and write the log")
    run.add_argument("--url", required=True, help="http://127.0.0.1:PORT (loopback only)")
    run.add_argument("--read-token", required=True)
    run.add_argument("--write-token", required=True)
    run.add_argument("--rate", type=float, default=250, help="requests per second")
    run.add_argument("--duration", type=float, default=60, help="longest run, seconds")
    run.add_argument("--mix", default="list=2,get=2,post=1", help="kind=weight,...")
    run.add_argument("--timeout", type=float, default=10, help="seconds per request")
    run.add_argument("--max-in-flight", type=int, default=256)
    run.add_argument(
        "--no-keep-alive",
        action="store_true",
        help="a new connection per request (Connection: close): every request goes through accept()",
    )
    run.add_argument("--seed", type=int, default=1)
    run.add_argument("--run-id", help="prefix of the Idempotency-Keys")
    run.add_argument("--log", required=True)
    run.set_defaults(func=command_run)
    summ = sub.add_parser("summarize", help="figures for the requests due in a time range")
    summ.add_argument("--log", required=True)
    summ.add_argument("--from", dest="start", type=float)
    summ.add_argument("--to", dest="end", type=float)
    summ.add_argument("--window", action="append", default=[], help="FROM:TO, repeatable")
    summ.set_defaults(func=command_summarize)
    rec = sub.add_parser("recovery", help="time to the first success after a moment")
    rec.add_argument("--log", required=True)
    rec.add_argument("--after", type=float, required=True)
    rec.set_defaults(func=command_recovery)
    ids = sub.add_parser("created-ids", help="ids of the payments answered with 201")
    ids.add_argument("--log", required=True)
    ids.set_defaults(func=command_created_ids)
    args = parser.parse_args()
    if getattr(args, "rate", 1) <= 0 or getattr(args, "duration", 1) <= 0:
        parser.error("--rate and --duration must be positive")
    args.func(args)


if __name__ == "__main__":
    main()
