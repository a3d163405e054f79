#!/usr/bin/env python3
"""Benchmark: a first Gmail sync of a 20,000-message mailbox against a simulated per-user quota.

The mailbox lives in the local Google API server of the test suite (tests/google_server.py), run in
a child process so that its CPU is not counted as the client's. The server enforces the quota like
Gmail does (a per-user bucket of units a second; messages.get and messages.list cost 5 units) and
answers 429 to anything over it. tiekeeper's Gmail connector syncs through the real
google-api-python-client, over real HTTP, with its quota set to the same figure.

Printed: the throughput as a share of the quota (goal >= 80 %), the share of calls answered 429
(goal < 1 %), and the client's CPU per message (goal <= 1 ms) for the sync (list, batched fetch,
header parse, store) and for inference afterwards.

    python bench/gmail.py [--messages 20000] [--quota 1000]

--quota is in units a second. Gmail's published per-user figure is 250 (15,000 a minute), at which
20,000 messages take about seven minutes; the default of 1000 gives the same picture in two.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.ingest import ME, generate  # noqa: E402
from connectors import google_api  # noqa: E402
from connectors.gmail import GmailConnector  # noqa: E402
from daemon.identity import Me  # noqa: E402
from daemon.ingest import sync_source  # noqa: E402
from daemon.pipeline import derive  # noqa: E402
from daemon.store import Store  # noqa: E402

UNITS_PER_MESSAGE = google_api.GMAIL_COSTS["messages.get"]


def serve(pipe, maildir: str, token_path: str, quota: float) -> None:
    """The child process: a Google server holding the mailbox, answering until asked for its stats."""
    from tests.google_server import GoogleServer, GoogleState, token_file

    server = GoogleServer(GoogleState())
    n = server.state.load_maildir(Path(maildir), ME)
    token_file(Path(token_path), server)
    server.state.quota_units_per_second = quota
    pipe.send((server.url, n))
    pipe.recv()  # "stats"
    pipe.send(dict(server.state.stats))
    server.stop()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--messages", type=int, default=20000)
    ap.add_argument("--quota", type=float, default=1000.0, help="per-user quota, units a second (default %(default)s)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        generate(tmp / "mail", args.messages)
        parent, child = mp.Pipe()
        proc = mp.get_context("fork").Process(target=serve, args=(child, str(tmp / "mail"), str(tmp / "token.json"),
                                                                  args.quota), daemon=True)
        proc.start()
        url, n = parent.recv()
        print(f"mailbox: {n} messages in the local Gmail server; quota {args.quota:.0f} units/s "
              f"= {args.quota / UNITS_PER_MESSAGE:.0f} messages.get/s")
        store = Store(tmp / "bench.db")
        quota = google_api.Quota(args.quota, google_api.GMAIL_COSTS)
        conn = GmailConnector("gmail", ME, tmp / "token.json", url, quota=quota)
        cpu, wall = time.process_time(), time.perf_counter()
        result = sync_source(store, conn, "gmail")
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        conn.close()
        infer_cpu = time.process_time()
        derive(store, Me([ME]))
        infer_cpu = time.process_time() - infer_cpu
        parent.send("stats")
        stats = parent.recv()
        proc.join(10)
        assert result.fetched == n, f"fetched {result.fetched} of {n}"
        granted = stats.get("granted_units", 0)
        refused = stats.get("429", 0)
        calls = granted / UNITS_PER_MESSAGE + refused  # every Gmail call here costs 5 units but getProfile (1)
        share = granted / wall / args.quota
        print(f"full sync: {n} messages in {wall:.1f}s = {n / wall:.0f} msg/s; {stats.get('batches', 0)} batch requests")
        print(f"throughput: {granted / wall:.0f} units/s granted = {share:.1%} of the quota (goal >= 80 %)")
        print(f"429 rate:   {refused} of about {calls:.0f} calls answered 429 = {refused / max(calls, 1):.2%} "
              f"(goal < 1 %); the client saw {conn.caller.throttled} throttled answers")
        print(f"client CPU: {cpu / n * 1000:.2f} ms/message for the sync (goal <= 1 ms); "
              f"inference afterwards {infer_cpu / n * 1000:.2f} ms/message")


if __name__ == "__main__":
    main()
