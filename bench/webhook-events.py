#!/usr/bin/env python3
"""Writes signed Stripe webhook deliveries for bench/webhooks.

One delivery per line: the Stripe-Signature header value, a tab, and the
event's body (compact JSON), for events evt_bench_<run>_<n>, n = 1 .. COUNT,
each a `checkout.session.completed` of a paid Checkout Session
cs_bench_<run>_<n> for the PaymentIntent pi_bench_<n> that
app/web/examples/fake_stripe.rs stores, for the same amount.

The objects are shaped as the tests' builders make them
(app/web/tests/stripe_support/objects.rs: `checkout_session` and `event`),
from Stripe's example objects in app/web/tests/fixtures/stripe/. The
signature is Stripe's: HMAC-SHA256 of "{t}.{body}" keyed with the whole
`whsec_` secret, in hex, as `t=<t>,v1=<hex>`. Stripe's receivers refuse a
`t` more than 300 s old, so write the file just before sending it; with
the same --run and --created, a later call writes the same bodies again,
signed anew (a redelivery); --numbers limits them to the events whose n
is listed in a file (one a line: those a first run recorded).

Usage: bench/webhook-events.py --count N --secret whsec_... --run ID
           --created UNIX --out FILE [--timestamp UNIX] [--numbers FILE]
"""

import argparse
import hashlib
import hmac
import json
import pathlib
import time

FIXTURES = pathlib.Path(__file__).resolve().parent.parent / "app/web/tests/fixtures/stripe"


def amount_of(n):
    """The amount of pi_bench_<n> in cents (fake_stripe.rs's amount_of)."""
    return 500 + (n * 7919) % 25_000


def fixture(name):
    return json.loads((FIXTURES / f"{name}.json").read_text())


def checkout_session(template, session_id, payment_intent, amount, name, email, campaign):
    """objects.rs's checkout_session(id, pi, amount, "usd", "paid", Some(name), email, Some(campaign))."""
    cs = json.loads(template)
    cs["id"] = session_id
    cs["mode"] = "payment"
    cs["status"] = "complete"
    cs["url"] = None
    cs["payment_intent"] = payment_intent
    cs["amount_total"] = amount
    cs["amount_subtotal"] = amount
    cs["currency"] = "usd"
    cs["payment_status"] = "paid"
    cs["customer_details"]["name"] = name
    cs["customer_details"]["email"] = email
    cs["metadata"]["campaign"] = campaign
    return cs


def event(template, event_id, kind, created, obj):
    """objects.rs's event(id, kind, created, false, object)."""
    evt = json.loads(template)
    evt["id"] = event_id
    evt["type"] = kind
    evt["created"] = created
    evt["livemode"] = False
    evt["data"]["object"] = obj
    return evt


def sign(secret, timestamp, body):
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--secret", required=True)
    parser.add_argument("--run", required=True, help="part of every event and session id")
    parser.add_argument("--created", type=int, required=True, help="the events' created time")
    parser.add_argument("--timestamp", type=int, default=None, help="the signatures' t (default: now)")
    parser.add_argument("--out", required=True)
    parser.add_argument("--numbers", default=None, help="only these n (a file, one a line)")
    args = parser.parse_args()
    if args.count < 1 or not args.secret.startswith("whsec_"):
        parser.error("--count must be positive and --secret a whsec_ secret")
    timestamp = args.timestamp if args.timestamp is not None else int(time.time())
    session_template = json.dumps(fixture("checkout_session"))
    event_template = json.dumps(fixture("event"))
    numbers = range(1, args.count + 1)
    if args.numbers is not None:
        with open(args.numbers, encoding="utf-8") as listed:
            numbers = sorted({int(line) for line in listed if line.strip()})
        if not numbers or numbers[0] < 1 or numbers[-1] > args.count:
            parser.error(f"--numbers must list events between 1 and {args.count}")
    with open(args.out, "w", encoding="utf-8") as out:
        for n in numbers:
            session = checkout_session(
                session_template,
                f"cs_bench_{args.run}_{n}",
                f"pi_bench_{n}",
                amount_of(n),
                f"Bench Reader {n}",
                f"reader{n}@example.org",
                "bench-webhooks",
            )
            evt = event(event_template, f"evt_bench_{args.run}_{n}", "checkout.session.completed", args.created, session)
            body = json.dumps(evt, separators=(",", ":"), ensure_ascii=False).encode()
            out.write(f"{sign(args.secret, timestamp, body)}\t{body.decode()}\n")


if __name__ == "__main__":
    main()
