#!/usr/bin/env python3
"""Reads one callgrind dump and prints, per request: the self cost grouped
by layer of the request path, the inclusive cost of the steps of a request
(log line, span, metrics, request id, headers, timeout, JSON, sqlx, hyper),
and the top functions by self cost. bench/profile runs it.

    callgrind_groups.py --requests 2000 [--top 25] callgrind.out.1234.1

The dump is read directly (not through callgrind_annotate): a function's
costs are added up over every file its code came from (inlined code has the
file it was written in), and the call counted 0 times that callgrind writes
for a function that was running when the counters were zeroed is cost of a
call, not the caller's own. Self costs add up to the total, so the groups
split the whole cost of a request between them. A function goes to the
first group whose pattern matches its name, in the order of GROUPS.
"""

import argparse
import collections
import re
import sys

# (group, pattern on the demangled function name). Middleware first, so
# that e.g. tower-http's request id is not counted as generic tower code.
GROUPS = [
    ("request logging and spans (tracing, tracing-subscriber JSON)",
     r"^<?(tracing_subscriber|tracing_core|tracing|tracing_serde|tracing_log|sharded_slab)::"),
    ("metrics (metrics, prometheus recorder)",
     r"^<?(metrics|metrics_exporter_prometheus|metrics_util|quanta|sketches_ddsketch)::"),
    ("request id (tower-http request_id, uuid, getrandom)",
     r"^<?(tower_http::request_id|uuid|getrandom|rand|rand_core|rand_chacha)::|getrandom"),
    ("timeouts (tower-http timeout, tokio timers)",
     r"^<?(tower_http::timeout|tokio::time|tokio::runtime::time)"),
    ("body limits (tower-http limit, http-body-util)",
     r"^<?(tower_http::limit|http_body_util|axum::extract::DefaultBodyLimit)"),
    ("panic catching (tower-http catch_panic)",
     r"^<?tower_http::catch_panic"),
    ("other tower-http and tower layers",
     r"^<?(tower_http|tower|tower_layer|tower_service)::"),
    ("header maps and other http types (http)",
     r"^<?http::"),
    ("routing and extractors (axum, matchit)",
     r"^<?(axum|axum_core|axum_extra|matchit)::"),
    ("JSON encoding (serde_json, serde)",
     r"^<?(serde_json|serde|serde_core|itoa|ryu)::"),
    ("time and dates (chrono, time)",
     r"^<?(chrono|time)::"),
    ("sqlx (MySQL protocol, pool)",
     r"^<?(sqlx_core|sqlx_mysql|sqlx_sqlite|sqlx)::"),
    ("hyper (HTTP/1 parsing and writing)",
     r"^<?(hyper|hyper_util|httparse|httpdate|h2)::"),
    ("tokio runtime and I/O",
     r"^<?(tokio|mio|tokio_util|tokio_stream|futures_util|futures_core|futures_channel|"
     r"futures_intrusive|event_listener|parking_lot|parking_lot_core|crossbeam_queue|crossbeam_utils)::"),
    ("payments (this crate)",
     r"^<?payments::"),
    ("memory allocation (malloc, free)",
     r"^(malloc|free|realloc|calloc|cfree|_int_malloc|_int_free|_int_realloc|malloc_consolidate|"
     r"tcache_|sysmalloc|unlink_chunk|__libc_(malloc|free|calloc|realloc)|__rust_(alloc|dealloc|realloc)|"
     r"alloc::alloc::)"),
    ("memory copies (memcpy, memmove, memset)",
     r"^_*(mem(cpy|move|set|cmp|chr)|bcmp|str(len|chr|cmp))"),
    ("Rust standard library (formatting, strings, collections)",
     r"^<?(std|core|alloc|hashbrown|bytes|smallvec|indexmap|thread_local)::"),
    ("hashing (sha2, hashers)",
     r"^<?(sha2|digest|foldhash|ahash|siphasher)::"),
    ("libc and the kernel interface (system call wrappers)",
     r"^(__libc_|__GI_|_dl_|syscall|epoll_|write|read|send|recv|__send|__recv|clock_gettime|__clock_|"
     r"pthread_|__pthread|futex|__lll|__futex|_IO_)"),
]

# (step, pattern, how): the inclusive cost of the costliest function
# matching ("max"), or of all of them added up ("sum": for functions that do
# not call one another). Async code is inlined into the poll functions that
# run it, so these are the steps that keep a function of their own.
FMT = r"^<tracing_subscriber::fmt::Subscriber<N,E,F,W> as tracing_core::subscriber::Subscriber>::"
STEPS = [
    ("the log line (the event formatted as JSON and written to stderr)", FMT + r"event$", "max"),
    ("spans created (the request span; its fields formatted as JSON)", FMT + r"new_span$", "max"),
    ("spans entered (at every poll of an instrumented future)", FMT + r"enter$", "max"),
    ("spans exited", FMT + r"exit$", "max"),
    ("spans closed", FMT + r"try_close$", "max"),
    ("metrics: the counter and histogram found and updated",
     r"(PrometheusRecorder as metrics::recorder::Recorder>::register_(counter|histogram)"
     r"|^payments::http::RequestMetrics::handles"
     r"|as metrics::handles::(CounterFn>::increment|HistogramFn>::record))$", "sum"),
    ("request id: a new UUID v4 (user space only: not the getrandom system call)",
     r"(as tower_http::request_id::MakeRequestId>::make_request_id|^uuid::v4::<impl uuid::Uuid>::new_v4)$", "sum"),
    ("security headers (the middleware's own code)", r"^payments::http::security_headers::\{\{closure\}\}::\{\{closure\}\}$", "max"),
    ("the page query (sqlx: acquire, ping, execute, rows decoded)",
     r"^payments::storage::payments::<impl payments::storage::Store>::page_rows::\{\{closure\}\}$", "max"),
    ("sqlx: the ping before each use of a pooled connection",
     r"^<sqlx_mysql::connection::MySqlConnection as sqlx_core::connection::Connection>::ping::\{\{closure\}\}$", "max"),
    ("rows turned into payments (PaymentRow::into_payment)", r"^payments::storage::payments::PaymentRow::into_payment$", "max"),
    ("the page's payments freed (drop of PaymentList)", r"^core::ptr::drop_in_place<payments::http::api::PaymentList>$", "max"),
    ("the next-page cursor (Cursor::encode)", r"^payments::domain::listing::Cursor::encode$", "max"),
    ("hyper: the request head parsed", r"^<hyper::proto::h1::role::Server as hyper::proto::h1::Http1Transaction>::parse$", "max"),
    ("hyper: the response head written", r"^<hyper::proto::h1::role::Server as hyper::proto::h1::Http1Transaction>::encode$", "max"),
    ("axum: routing", r"^axum::routing::Router<S>::call_with_state$", "max"),
]

NAME = re.compile(r"^\((\d+)\)(?: (.*))?$")


def read_dump(path):
    """Self and inclusive cost per function name, and the total."""
    names = {}
    self_cost = collections.Counter()
    call_cost = collections.Counter()
    function = None
    callee = None
    pending_call = False
    total = 0
    with open(path, errors="replace") as dump:
        for line in dump:
            line = line.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            first = line[0]
            if first.isdigit() or first in "+-*":
                if function is None:
                    continue
                parts = line.split()
                cost = int(parts[1]) if len(parts) > 1 else 0
                if pending_call:
                    # A call to the function itself would count twice.
                    if callee != function:
                        call_cost[function] += cost
                    pending_call = False
                else:
                    self_cost[function] += cost
                continue
            key, _, value = line.partition("=")
            if key in ("fn", "cfn"):
                m = NAME.match(value)
                if m:
                    if m.group(2) is not None:
                        names[m.group(1)] = m.group(2)
                    name = names.get(m.group(1), value)
                else:
                    name = value
                if key == "fn":
                    function = name
                else:
                    callee = name
            elif key == "calls":
                pending_call = True
            elif line.startswith("summary:") or line.startswith("totals:"):
                total = max(total, int(line.split()[1]))
    inclusive = collections.Counter()
    for name in set(self_cost) | set(call_cost):
        inclusive[name] = self_cost[name] + call_cost[name]
    return total or sum(self_cost.values()), self_cost, inclusive


def group_of(function):
    for name, pattern in GROUPS:
        if re.search(pattern, function):
            return name
    return "other"


def short(function, width=120):
    return function if len(function) <= width else function[: width - 1] + "…"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, required=True)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("dump")
    args = parser.parse_args()
    n = args.requests

    total, self_cost, inclusive = read_dump(args.dump)
    if not total:
        sys.exit("no cost in " + args.dump)

    print("\nSelf cost by layer (Ir per request; the layers add up to the total):\n")
    print("| layer | Ir / request | share |")
    print("|---|---:|---:|")
    groups = collections.Counter()
    for function, ir in self_cost.items():
        groups[group_of(function)] += ir
    for name, ir in groups.most_common():
        print(f"| {name} | {ir // n:,} | {100 * ir / total:.1f}% |")
    print(f"| **total** | **{total // n:,}** | 100% |")

    print("\nSteps of a request (inclusive Ir per request: the function and all it calls):\n")
    print("| step | Ir / request | share | function(s) |")
    print("|---|---:|---:|---|")
    for step, pattern, how in STEPS:
        matches = sorted((ir, f) for f, ir in inclusive.items() if re.search(pattern, f))
        if not matches:
            print(f"| {step} | 0 | 0.0% | (not called) |")
            continue
        if how == "sum":
            ir, function = sum(ir for ir, _ in matches), " + ".join(short(f, 60) for _, f in matches)
        else:
            ir, function = matches[-1][0], short(matches[-1][1], 80)
        print(f"| {step} | {ir // n:,} | {100 * ir / total:.1f}% | `{function}` |")

    print(f"\nTop {args.top} by self cost (Ir per request in the function itself):\n")
    print("| Ir / request | share | layer | function |")
    print("|---:|---:|---|---|")
    for function, ir in self_cost.most_common(args.top):
        print(f"| {ir // n:,} | {100 * ir / total:.1f}% | {group_of(function).split(' (')[0]} | `{short(function)}` |")


if __name__ == "__main__":
    main()
