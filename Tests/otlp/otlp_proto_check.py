#!/usr/bin/env python3
"""The callbacks' OTLP payloads read by the reference decoder (PyPI opentelemetry-proto).

Starts a fake OpenAI upstream (one deployment answers 500 once, so a call retries), a fake
collector that records every POST, and the switchboard binary with `otel`, `langfuse` and
`generic_api` on. Then every OTLP/HTTP protobuf body is parsed with the official generated
classes (`ExportTraceServiceRequest`): our hand-written encoder (five-byte span lengths,
fixed64 times, raw ids) must be what any collector reads. Prints 'otlp-proto: N passed,
N failed' and exits non-zero on any failure.
"""
import base64
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from http.server import ThreadingHTTPServer

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from fake_http import FakeHTTPHandler, free_port, run_checks, wait_ready  # noqa: E402

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest  # noqa: E402
from opentelemetry.proto.trace.v1.trace_pb2 import Span  # noqa: E402

BINARY = sys.argv[1] if len(sys.argv) > 1 else ".build/debug/switchboard"
CALLS = 6


class FakeUpstream(FakeHTTPHandler):
    protocol_version = "HTTP/1.1"
    flaky_failed = False

    def log_message(self, *args):
        pass

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if body.get("model") == "flaky-model" and not FakeUpstream.flaky_failed:
            FakeUpstream.flaky_failed = True
            data = b'{"error":{"message":"upstream down","type":"server_error"}}'
            self.send_response(500)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return
        self.reply({
            "id": "chatcmpl-otlp", "object": "chat.completion", "created": 1700000000, "model": body.get("model"),
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hi there"}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7},
        })


class FakeCollector(FakeHTTPHandler):
    protocol_version = "HTTP/1.1"
    posts = []
    lock = threading.Lock()

    def log_message(self, *args):
        pass

    def do_POST(self):
        data = self.rfile.read(int(self.headers["Content-Length"]))
        with FakeCollector.lock:
            FakeCollector.posts.append((self.path, dict(self.headers), data))
        self.reply({})


def serve(handler):
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}"


def spans_of(path):
    """Every span POSTed to `path`, each request parsed by the reference decoder, and the headers."""
    out = []
    with FakeCollector.lock:
        posts = [p for p in FakeCollector.posts if p[0] == path]
    for _, headers, data in posts:
        request = ExportTraceServiceRequest()
        request.ParseFromString(data)
        for rs in request.resource_spans:
            resource = {kv.key: kv.value.string_value for kv in rs.resource.attributes}
            for ss in rs.scope_spans:
                for span in ss.spans:
                    out.append((resource, ss.scope.name, span, headers))
    return out


def attributes(span):
    values = {}
    for kv in span.attributes:
        which = kv.value.WhichOneof("value")
        values[kv.key] = getattr(kv.value, which)
    return values


def main():
    upstream = serve(FakeUpstream)
    collector = serve(FakeCollector)
    config = f"""
model_list:
  - model_name: chat-model
    litellm_params: {{model: openai/chat-model, api_base: {upstream}/v1, api_key: sk-up}}
  - model_name: flaky-model
    litellm_params: {{model: openai/flaky-model, api_base: {upstream}/v1, api_key: sk-up}}
litellm_settings:
  success_callback: ["otel", "langfuse", "generic_api"]
  failure_callback: ["otel", "langfuse", "generic_api"]
router_settings:
  num_retries: 1
  retry_after: 0
environment_variables:
  OTEL_EXPORTER_OTLP_ENDPOINT: {collector}
  OTEL_BSP_SCHEDULE_DELAY: "100"
  LANGFUSE_HOST: {collector}
  LANGFUSE_PUBLIC_KEY: pk-otlp
  LANGFUSE_SECRET_KEY: sk-otlp
  GENERIC_LOGGER_ENDPOINT: {collector}/generic
  DEFAULT_FLUSH_INTERVAL_SECONDS: "0.1"
"""
    fd, path = tempfile.mkstemp(suffix=".yaml")
    with os.fdopen(fd, "w") as f:
        f.write(config)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "LANGFUSE_", "GENERIC_LOGGER"))}
    proc = subprocess.Popen([BINARY, "worker", "--config", path, "--host", "127.0.0.1", "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
    passed = failed = 0
    try:
        wait_ready(port)
        call_ids = []
        for i in range(CALLS):
            model = "flaky-model" if i == 0 else "chat-model"
            body = json.dumps({"model": model, "messages": [{"role": "user", "content": f"hello {i}"}], "temperature": 0.5}).encode()
            request = urllib.request.Request(f"http://127.0.0.1:{port}/v1/chat/completions", data=body,
                                             headers={"Content-Type": "application/json"})
            with urllib.request.urlopen(request, timeout=10) as answer:
                assert answer.status == 200
                call_ids.append(answer.headers["x-litellm-call-id"])

        def roots(path):
            return [s for s in spans_of(path) if not s[2].parent_span_id]

        deadline = time.time() + 20
        while time.time() < deadline:
            generic = [e for p in FakeCollector.posts if p[0] == "/generic" for e in json.loads(p[2])]
            if len(roots("/v1/traces")) >= CALLS and len(roots("/api/public/otel/v1/traces")) >= CALLS and len(generic) >= CALLS:
                break
            time.sleep(0.05)

        def otel_spans():
            spans = spans_of("/v1/traces")
            assert spans, "no OTLP request reached /v1/traces"
            root_spans = [s for s in spans if not s[2].parent_span_id]
            assert sorted(attributes(s[2])["switchboard.call_id"] for s in root_spans) == sorted(call_ids), "one root span per call"
            by_id = {s[2].span_id: s[2] for s in root_spans}
            for resource, scope, span, headers in spans:
                assert resource.get("service.name"), resource
                assert scope == "switchboard", scope
                assert len(span.trace_id) == 16 and len(span.span_id) == 8, "raw ids"
                assert span.end_time_unix_nano >= span.start_time_unix_nano > 1_600_000_000 * 10**9, "fixed64 Unix nanoseconds"
                assert headers.get("Content-Type") == "application/x-protobuf", headers
                if span.parent_span_id:
                    parent = by_id[span.parent_span_id]
                    assert span.kind == Span.SPAN_KIND_CLIENT and span.trace_id == parent.trace_id
                else:
                    assert span.kind == Span.SPAN_KIND_SERVER
            attempts = [s for s in spans if s[2].parent_span_id]
            assert len(attempts) == CALLS + 1, f"one span per attempt (the flaky call retried): {len(attempts)}"

        def otel_attribute_types():
            root = next(s[2] for s in spans_of("/v1/traces") if not s[2].parent_span_id)
            a = attributes(root)
            assert a["gen_ai.operation.name"] == "chat" and a["gen_ai.request.model"] in ("chat-model", "flaky-model"), a
            assert a["gen_ai.usage.input_tokens"] == 5 and a["gen_ai.usage.output_tokens"] == 2, a
            assert a["http.response.status_code"] == 200 and a["switchboard.stream"] is False, a
            assert isinstance(a["switchboard.overhead_ms"], float), a

        def langfuse_generations():
            spans = spans_of("/api/public/otel/v1/traces")
            assert spans, "no OTLP request reached Langfuse's endpoint"
            expected = "Basic " + base64.b64encode(b"pk-otlp:sk-otlp").decode()
            generations = [s for s in spans if attributes(s[2]).get("langfuse.observation.type") == "generation"]
            assert len(generations) == CALLS, len(generations)
            for _, _, span, headers in generations:
                assert headers.get("Authorization") == expected, "Basic auth"
                a = attributes(span)
                assert json.loads(a["langfuse.observation.input"])[0]["content"].startswith("hello"), a
                assert json.loads(a["langfuse.observation.output"])[0]["message"]["content"] == "Hi there", a
                assert json.loads(a["langfuse.observation.usage_details"]) == {"input": 5, "output": 2, "total": 7}, a
                assert json.loads(a["langfuse.observation.model.parameters"]) == {"temperature": 0.5}, a
                assert json.loads(a["langfuse.observation.metadata"])["call_id"] in call_ids, a
            retried = [s for s in spans if s[2].parent_span_id]
            assert retried, "the retried call's attempts are child spans"

        def generic_api_matches():
            generic = [e for p in FakeCollector.posts if p[0] == "/generic" for e in json.loads(p[2])]
            assert sorted(e["litellm_call_id"] for e in generic) == sorted(call_ids), generic

        passed, failed = run_checks([
            ("otel: every body parses, one server span per call and one client span per attempt", otel_spans),
            ("otel: GenAI attributes with their protobuf value types", otel_attribute_types),
            ("langfuse: generations with Basic auth, input, output, usage, parameters, metadata", langfuse_generations),
            ("generic_api: the same calls", generic_api_matches),
        ])
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        os.unlink(path)
    if passed + failed == 0:
        failed = 1  # it stopped before its checks (the gateway or a call failed)
    print(f"otlp-proto: {passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
