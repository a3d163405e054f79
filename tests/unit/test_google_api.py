"""The pure parts of the Google plumbing: quota bucket, backoff, Retry-After, batch part serialization."""

from __future__ import annotations

import httplib2
from googleapiclient.discovery import build
from googleapiclient.http import BatchHttpRequest

from connectors import google_api as g


def test_the_token_bucket_paces_to_its_rate_after_one_second_of_burst():
    now = [0.0]
    slept = []

    def sleep(s):
        slept.append(s)
        now[0] += s

    bucket = g.TokenBucket(250.0, clock=lambda: now[0], sleep=sleep)
    for _ in range(50):  # 250 units: the burst, no wait
        bucket.take(5)
    assert slept == []
    for _ in range(500):  # 2,500 units more: ten seconds at 250 a second
        bucket.take(5)
    assert abs(now[0] - 10.0) < 1e-6


def test_backoff_grows_with_jitter_and_never_undercuts_retry_after():
    assert g.backoff_delay(0, None, base=1.0, rand=lambda: 0.0) == 0.5
    assert g.backoff_delay(3, None, base=1.0, rand=lambda: 1.0) == 8.0
    assert g.backoff_delay(20, None, base=1.0, rand=lambda: 1.0) == 64.0  # capped
    assert g.backoff_delay(0, 30.0, base=1.0, rand=lambda: 1.0) == 30.0


def test_retry_after_reads_seconds_and_http_dates():
    assert g.retry_after_seconds("7") == 7.0
    assert g.retry_after_seconds("Wed, 21 Oct 2026 07:28:00 GMT", now=1792567660.0) == 20.0
    assert g.retry_after_seconds("soon") is None and g.retry_after_seconds(None) is None


def test_batch_parts_written_by_hand_say_what_the_library_would():
    service = build("gmail", "v1", http=httplib2.Http(), static_discovery=True)
    request = service.users().messages().get(userId="me", id="abc", format="metadata",
                                            metadataHeaders=["From", "To"], fields="id,payload/headers")
    lean = g.new_batch(service, "gmail", None, lambda *a: None)
    assert lean._batch_uri == "https://gmail.googleapis.com/batch"

    def shape(text: str):
        first, *rest = text.strip("\n").split("\n")
        return first, sorted(line.lower() for line in rest)

    assert shape(lean._serialize_request(request)) == shape(BatchHttpRequest()._serialize_request(request))
    assert g.new_batch(service, "gmail", "http://127.0.0.1:9/", None)._batch_uri == "http://127.0.0.1:9/batch"
