#!/usr/bin/env python3
"""Schemathesis against Switchboard's own /openapi.json, over real sockets, with no network.

Starts a fake upstream speaking OpenAI's and Anthropic's APIs (real HTTP, JSON and SSE) and the
switchboard binary on a free port with a config of mock_response deployments and deployments
relayed (and translated) to that upstream, then runs
`schemathesis run` (the `st` CLI) against http://127.0.0.1:PORT/openapi.json with the master key as
the Authorization header. Checks: no 5xx (not_a_server_error), every status, content type and body
as the document describes them (status_code_conformance, content_type_conformance,
response_schema_conformance; streamed answers are checked event by event), 405 with Allow for other
methods (unsupported_method) and no answer without the key (ignored_auth). The run is seeded and
bounded (SCHEMATHESIS_MAX_EXAMPLES, default 25 per operation). Prints 'schemathesis: N passed,
M failed' (one per API operation, from schemathesis' JUnit report) and exits non-zero on any failure.
"""
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import xml.etree.ElementTree as ET
from http.server import ThreadingHTTPServer

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from fake_http import FakeHTTPHandler, free_port  # noqa: E402

BINARY = sys.argv[1] if len(sys.argv) > 1 else ".build/debug/switchboard"
HERE = os.path.dirname(os.path.abspath(__file__))
RANKS = os.path.join(HERE, "..", "TokenizersTests", "Fixtures", "ranks.tiktoken")
MASTER_KEY = "sk-schemathesis"
CHECKS = ",".join([
    "not_a_server_error",            # no 5xx, whatever the input
    "status_code_conformance",       # every status is one the document lists
    "content_type_conformance",      # every content type is one the document lists
    "response_schema_conformance",   # every body (every event of a stream) matches its schema
    "unsupported_method",            # other methods get 405 with Allow
    "ignored_auth",                  # routes that need the key refuse requests without it or with a wrong one
])
# Left out, on purpose: negative_data_rejection (the gateway relays parameters it does not know and
# leaves most values to the upstream to judge, as LiteLLM does, so a schema-violating body such as
# "temperature": "hot" is not refused here) and positive_data_acceptance (a schema-valid request for
# a model group the config lacks is rightly a 400; the set of groups is the config's, not the
# document's).
MAX_EXAMPLES = os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "25")
SEED = os.environ.get("SCHEMATHESIS_SEED", "20261130")


class FakeUpstream(FakeHTTPHandler):
    """Answers any JSON body with a valid answer in OpenAI's shape, or in Anthropic's on
    /v1/messages: the gateway's own handling (and translation) is under test."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_POST(self):
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            body = json.loads(raw)
        except ValueError:
            body = {}
        if not isinstance(body, dict):
            body = {}
        model = body.get("model") if isinstance(body.get("model"), str) else "upstream"
        if self.path.endswith("/v1/messages"):
            self.anthropic(model, body.get("stream") is True)
            return
        if self.path.endswith("/embeddings"):
            self.reply({"object": "list", "model": model, "usage": {"prompt_tokens": 2, "total_tokens": 2},
                        "data": [{"object": "embedding", "index": 0, "embedding": [0.5, 0.25]}]})
            return
        chat = self.path.endswith("/chat/completions")
        if body.get("stream") is True:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            base = {"id": "chatcmpl-up" if chat else "cmpl-up", "object": "chat.completion.chunk" if chat else "text_completion",
                    "created": 1, "model": model}
            first = {"index": 0, "delta": {"role": "assistant", "content": "relayed"}, "finish_reason": None} if chat \
                else {"index": 0, "text": "relayed", "finish_reason": None}
            last = {"index": 0, "delta": {}, "finish_reason": "stop"} if chat else {"index": 0, "text": "", "finish_reason": "stop"}
            for choice in (first, last):
                self.chunk(("data: " + json.dumps(dict(base, choices=[choice])) + "\n\n").encode())
            options = body.get("stream_options")
            if isinstance(options, dict) and options.get("include_usage") is True:
                usage = dict(base, choices=[], usage={"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4})
                self.chunk(("data: " + json.dumps(usage) + "\n\n").encode())
            self.chunk(b"data: [DONE]\n\n")
            self.chunk(b"")
        elif chat:
            self.reply({"id": "chatcmpl-up", "object": "chat.completion", "created": 1, "model": model,
                        "choices": [{"index": 0, "message": {"role": "assistant", "content": "relayed"}, "finish_reason": "stop"}],
                        "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}})
        else:
            self.reply({"id": "cmpl-up", "object": "text_completion", "created": 1, "model": model,
                        "choices": [{"index": 0, "text": "relayed", "finish_reason": "stop"}],
                        "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}})

    def anthropic(self, model, stream):
        usage = {"input_tokens": 3, "output_tokens": 1}
        if not stream:
            self.reply({"id": "msg_up", "type": "message", "role": "assistant", "model": model,
                        "content": [{"type": "text", "text": "relayed"}], "stop_reason": "end_turn",
                        "stop_sequence": None, "usage": usage})
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        events = [
            {"type": "message_start", "message": {"id": "msg_up", "type": "message", "role": "assistant", "content": [],
                                                  "model": model, "stop_reason": None, "stop_sequence": None, "usage": usage}},
            {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
            {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "relayed"}},
            {"type": "content_block_stop", "index": 0},
            {"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": None}, "usage": {"output_tokens": 1}},
            {"type": "message_stop"},
        ]
        for event in events:
            self.chunk(("event: %s\ndata: %s\n\n" % (event["type"], json.dumps(event))).encode())
        self.chunk(b"")



def config(origin):
    # gpt-4o and text-embedding-3-small are the models of the document's examples (those of the demo
    # config), relayed here to the fake upstream; claude is translated to Anthropic's Messages API
    # and back; the mock groups answer from mock_response. schemathesis_hooks.py puts these names
    # into generated requests.
    upstream = origin + "/v1"
    return f"""
model_list:
  - model_name: gpt-4o
    litellm_params: {{model: openai/gpt-4o, api_base: "{upstream}", api_key: sk-upstream}}
  - model_name: gpt-4o-mock
    litellm_params: {{model: openai/gpt-4o-mini, mock_response: "mock answer"}}
  - model_name: claude
    litellm_params: {{model: anthropic/claude-3-5-sonnet-20241022, api_base: "{origin}", api_key: sk-upstream}}
  - model_name: text-embedding-3-small
    litellm_params: {{model: openai/text-embedding-3-small, api_base: "{upstream}", api_key: sk-upstream}}
  - model_name: embedding-mock
    litellm_params: {{model: openai/text-embedding-3-small, mock_response: [0.1, 0.2]}}
general_settings:
  master_key: {MASTER_KEY}
"""


def operations(junit_path):
    """(passed, failed, failing operation names) from schemathesis' JUnit report."""
    root = ET.parse(junit_path).getroot()
    passed, failed = 0, []
    for case in root.iter("testcase"):
        if case.find("failure") is not None or case.find("error") is not None:
            failed.append(case.get("name"))
        elif case.find("skipped") is None:
            passed += 1
    return passed, failed


def main():
    upstream = ThreadingHTTPServer(("127.0.0.1", 0), FakeUpstream)
    threading.Thread(target=upstream.serve_forever, daemon=True).start()
    work = tempfile.mkdtemp(prefix="switchboard-schemathesis-")
    path = os.path.join(work, "config.yaml")
    with open(path, "w") as f:
        f.write(config(f"http://127.0.0.1:{upstream.server_address[1]}"))
    # /utils/token_counter counts with tiktoken rank files: the test fixture stands in for every
    # encoding, read from a directory (SWITCHBOARD_TIKTOKEN_DIR is never fetched: no network).
    tiktoken = os.path.join(work, "tiktoken")
    os.mkdir(tiktoken)
    for encoding in ("o200k_base", "cl100k_base", "p50k_base"):
        shutil.copy(RANKS, os.path.join(tiktoken, encoding + ".tiktoken"))
    port = free_port()
    log = open(os.path.join(work, "gateway.log"), "w+")
    gateway_env = dict(os.environ, SWITCHBOARD_WATCH_CONFIG_SECONDS="0", SWITCHBOARD_TIKTOKEN_DIR=tiktoken,
                       SWITCHBOARD_TOKENIZER_CACHE_DIR=os.path.join(work, "tokenizer-cache"))
    proc = subprocess.Popen([BINARY, "--config", path, "--host", "127.0.0.1", "--port", str(port), "--num_workers", "1"],
                            stdout=log, stderr=subprocess.STDOUT, env=gateway_env)
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            urllib.request.urlopen(base + "/health/readiness", timeout=1)
            break
        except Exception:
            time.sleep(0.1)
    junit = os.path.join(work, "junit.xml")
    arguments = ["--no-color", "run", base + "/openapi.json",
               "--checks", CHECKS,
               "-H", f"Authorization: Bearer {MASTER_KEY}",
               "--max-examples", MAX_EXAMPLES, "--seed", SEED,
               "--workers", "1", "--generation-database", "none",
               "--request-timeout", "10",
               "--report", "junit", "--report-junit-path", junit]
    print("running: st " + " ".join(a if " " not in a else repr(a) for a in arguments), flush=True)
    # `st` through this interpreter: pip may have put the script off PATH (~/.local/bin).
    command = [sys.executable, "-c", "import sys; from schemathesis.cli import schemathesis; sys.argv[0] = 'st'; schemathesis()"] + arguments
    started = time.time()
    env = dict(os.environ, SCHEMATHESIS_HOOKS="schemathesis_hooks",
               PYTHONPATH=HERE + os.pathsep + os.environ.get("PYTHONPATH", ""))
    # In the scratch directory: schemathesis keeps replay files in ./.schemathesis.
    status = subprocess.run(command, env=env, cwd=work).returncode
    elapsed = time.time() - started
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
    upstream.shutdown()
    passed, failed = operations(junit) if os.path.exists(junit) else (0, ["(no report: schemathesis did not run)"])
    if status != 0 and not failed:
        failed = [f"(schemathesis exited {status})"]
    if failed:
        log.seek(0)
        print("gateway log (last lines):\n" + "".join(log.readlines()[-40:]))
        print("failing operations: " + ", ".join(failed))
    else:
        shutil.rmtree(work, ignore_errors=True)
    print(f"schemathesis took {elapsed:.1f}s")
    print(f"schemathesis: {passed} passed, {len(failed)} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
