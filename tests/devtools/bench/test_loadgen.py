"""The (d) load generator: its statistics (pure functions) and one short run against a local server."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from posfleet.devtools.bench import loadgen


class TestDueOffsets:
    def test_a_fixed_schedule_of_rate_times_seconds(self):
        assert loadgen.due_offsets(4, 1) == [0.0, 0.25, 0.5, 0.75]
        assert len(loadgen.due_offsets(500, 10)) == 5000
        assert loadgen.due_offsets(500, 10)[-1] == pytest.approx(9.998)

    def test_nothing_to_send(self):
        assert loadgen.due_offsets(0, 10) == [] and loadgen.due_offsets(500, 0) == []


class TestPercentile:
    def test_nearest_rank(self):
        values = [float(v) for v in range(1, 1001)]  # 1 … 1000
        assert loadgen.percentile(values, 50) == 500.0
        assert loadgen.percentile(values, 99) == 990.0
        assert loadgen.percentile(values, 99.9) == 999.0
        assert loadgen.percentile(values, 100) == 1000.0

    def test_never_below_an_observed_value_on_small_samples(self):
        assert loadgen.percentile([1.0, 2.0, 30.0], 99) == 30.0
        assert loadgen.percentile([5.0], 50) == 5.0
        assert loadgen.percentile([], 99) == 0.0


class TestSummarize:
    def test_rates_percentiles_and_statuses(self):
        latencies = [0.001] * 98 + [0.020, 0.050]  # seconds
        result = loadgen.summarize(
            latencies, {200: 97, 401: 1, 0: 2}, offered_rate=100.0, span=1.25, send_lags=[0.0] * 99 + [0.004]
        )
        assert result["requests"] == 100 and result["ok"] == 97
        assert result["statuses"] == {"0": 2, "200": 97, "401": 1}
        assert result["achieved_rate"] == pytest.approx(97 / 1.25)
        assert result["latency_ms"]["p50"] == pytest.approx(1.0)
        assert result["latency_ms"]["p99"] == pytest.approx(20.0)
        assert result["latency_ms"]["max"] == pytest.approx(50.0)
        assert result["latency_ms"]["mean"] == pytest.approx((98 * 1 + 20 + 50) / 100)
        assert result["send_lag_ms"]["p99"] == 0.0 and result["send_lag_ms"]["max"] == pytest.approx(4.0)

    def test_empty_run(self):
        result = loadgen.summarize([], {}, offered_rate=500.0, span=0.0)
        assert result["achieved_rate"] == 0.0 and result["latency_ms"]["p99"] == 0.0


class TestParseHead:
    def test_keep_alive_with_length(self):
        head = b"HTTP/1.1 200 OK\r\nServer: gunicorn\r\nConnection: keep-alive\r\nContent-Length: 78"
        assert loadgen.parse_head(head) == (200, 78, False)

    def test_close_and_http_1_0(self):
        assert loadgen.parse_head(b"HTTP/1.1 401 Unauthorized\r\nconnection: Close\r\ncontent-length: 5") == (
            401,
            5,
            True,
        )
        assert loadgen.parse_head(b"HTTP/1.0 200 OK\r\nContent-Length: 2") == (200, 2, True)
        assert (
            loadgen.parse_head(b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2")[2] is False
        )

    def test_not_http(self):
        with pytest.raises(ValueError):
            loadgen.parse_head(b"SSH-2.0-OpenSSH")


# --- one short run against a local server -------------------------------------------------------------
class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    close_each = False

    def do_GET(self) -> None:
        body = b'{"ok": true}'
        self.send_response(401 if self.path == "/denied" else 200)
        self.send_header("Content-Length", str(len(body)))
        if self.close_each:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(params=[False, True], ids=["keep-alive", "close"])
def server(request: pytest.FixtureRequest) -> Iterator[ThreadingHTTPServer]:
    handler = type("Handler", (_Handler,), {"close_each": request.param})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def test_a_short_open_loop_run(server: ThreadingHTTPServer):
    port = server.server_address[1]
    requests = [f"GET {p} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" for p in ("/a", "/b", "/denied")]
    spec = loadgen.Spec(
        port=port, rate=200, seconds=0.5, requests=requests, warmup=0.1, connections=2, timeout=5
    )
    result = loadgen.run(spec)
    assert result["requests"] == 100
    assert set(result["statuses"]) == {"200", "401"}
    assert result["ok"] == result["statuses"]["200"]
    assert 0 < result["latency_ms"]["p50"] <= result["latency_ms"]["p99"] <= result["latency_ms"]["max"]
    assert result["connections_opened"] >= 2
    assert result["client_cpu_s"] >= 0
