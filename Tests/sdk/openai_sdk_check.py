#!/usr/bin/env python3
"""End-to-end check with the official OpenAI Python SDK, unchanged, against Switchboard.

Starts a fake OpenAI upstream (real HTTP, JSON and SSE) and the switchboard binary with a
LiteLLM-style config that has relayed and mock deployments, then lists models, chats (plain
and streaming) and embeds through the SDK. Prints 'N passed, N failed' and exits non-zero on
any failure.
"""
import json
import os
import subprocess
import sys
import tempfile
import threading
from http.server import ThreadingHTTPServer

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from fake_http import FakeHTTPHandler, free_port, run_checks, wait_ready  # noqa: E402

import openai

BINARY = sys.argv[1] if len(sys.argv) > 1 else ".build/debug/switchboard"


class FakeOpenAI(FakeHTTPHandler):
    protocol_version = "HTTP/1.1"
    seen = []

    def log_message(self, *args):
        pass

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        FakeOpenAI.seen.append((self.path, dict(self.headers), body))
        model = body.get("model")
        if self.path.endswith("/embeddings"):
            n = len(body["input"]) if isinstance(body["input"], list) else 1
            self.reply({"object": "list", "model": model, "usage": {"prompt_tokens": 2, "total_tokens": 2},
                        "data": [{"object": "embedding", "index": i, "embedding": [0.5, 0.25]} for i in range(n)]})
        elif body.get("stream"):
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            base = {"id": "chatcmpl-x", "object": "chat.completion.chunk", "created": 1, "model": model}
            chunks = [dict(base, choices=[{"index": 0, "delta": {"role": "assistant", "content": w}, "finish_reason": None}])
                      for w in ["relayed", " stream"]]
            chunks.append(dict(base, choices=[{"index": 0, "delta": {}, "finish_reason": "stop"}]))
            if (body.get("stream_options") or {}).get("include_usage"):
                chunks.append(dict(base, choices=[], usage={"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}))
            for c in chunks:
                self.chunk(("data: " + json.dumps(c) + "\n\n").encode())
            self.chunk(b"data: [DONE]\n\n")
            self.chunk(b"")
        else:
            self.reply({"id": "chatcmpl-x", "object": "chat.completion", "created": 1, "model": model,
                        "choices": [{"index": 0, "message": {"role": "assistant", "content": "relayed answer"},
                                     "finish_reason": "stop"}],
                        "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}})



def main():
    upstream = ThreadingHTTPServer(("127.0.0.1", 0), FakeOpenAI)
    threading.Thread(target=upstream.serve_forever, daemon=True).start()
    up = f"http://127.0.0.1:{upstream.server_address[1]}/v1"
    config = f"""
model_list:
  - model_name: gpt-4o
    litellm_params:
      model: openai/gpt-4o
      api_base: {up}
      api_key: os.environ/SDK_CHECK_UPSTREAM_KEY
  - model_name: text-embedding-3-small
    litellm_params:
      model: openai/text-embedding-3-small
      api_base: {up}
      api_key: os.environ/SDK_CHECK_UPSTREAM_KEY
  - model_name: demo
    litellm_params:
      model: openai/gpt-4o-mini
      mock_response: "mocked hello world"
router_settings:
  model_group_alias: {{"gpt-4": "gpt-4o"}}
general_settings:
  master_key: sk-1234
"""
    path = tempfile.mktemp(suffix=".yaml")
    with open(path, "w") as f:
        f.write(config)
    port = free_port()
    env = dict(os.environ, SDK_CHECK_UPSTREAM_KEY="sk-upstream")
    proc = subprocess.Popen([BINARY, "--config", path, "--host", "127.0.0.1", "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
    wait_ready(port)
    client = openai.OpenAI(api_key="sk-1234", base_url=f"http://127.0.0.1:{port}/v1")

    def models():
        ids = [m.id for m in client.models.list().data]
        assert ids == ["gpt-4o", "text-embedding-3-small", "demo", "gpt-4"], ids

    def chat():
        r = client.chat.completions.create(model="gpt-4", messages=[{"role": "user", "content": "hi"}])
        assert r.choices[0].message.content == "relayed answer", r
        assert r.usage.total_tokens == 5
        path_, headers, body = FakeOpenAI.seen[-1]
        assert path_ == "/v1/chat/completions" and body["model"] == "gpt-4o", (path_, body)
        assert headers.get("Authorization") == "Bearer sk-upstream", headers

    def chat_raw_headers():
        raw = client.chat.completions.with_raw_response.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}])
        assert raw.headers.get("x-litellm-model-group") == "gpt-4o", dict(raw.headers)

    def chat_stream():
        stream = client.chat.completions.create(model="gpt-4o", stream=True, stream_options={"include_usage": True},
                                                messages=[{"role": "user", "content": "hi"}])
        parts, usage = [], None
        for chunk in stream:
            if chunk.choices:
                parts.append(chunk.choices[0].delta.content or "")
            if chunk.usage:
                usage = chunk.usage
        assert "".join(parts) == "relayed stream", parts
        assert usage and usage.total_tokens == 5, usage

    def mock_chat_and_stream():
        r = client.chat.completions.create(model="demo", messages=[{"role": "user", "content": "hi"}])
        assert r.choices[0].message.content == "mocked hello world"
        text = "".join((c.choices[0].delta.content or "") for c in
                       client.chat.completions.create(model="demo", stream=True, messages=[{"role": "user", "content": "hi"}])
                       if c.choices)
        assert text == "mocked hello world", text

    def embeddings():
        r = client.embeddings.create(model="text-embedding-3-small", input=["a", "b"])
        assert len(r.data) == 2 and r.data[1].embedding == [0.5, 0.25], r

    def errors():
        try:
            client.chat.completions.create(model="nope", messages=[{"role": "user", "content": "hi"}])
            raise AssertionError("unknown model accepted")
        except openai.BadRequestError as e:
            assert "nope" in str(e) and e.status_code == 400, e
        bad = openai.OpenAI(api_key="sk-wrong", base_url=f"http://127.0.0.1:{port}/v1")
        try:
            bad.models.list()
            raise AssertionError("wrong key accepted")
        except openai.AuthenticationError as e:
            assert e.status_code == 401

    passed, failed = run_checks((c.__name__, c) for c in [models, chat, chat_raw_headers, chat_stream, mock_chat_and_stream, embeddings, errors])
    proc.terminate()
    out = proc.communicate(timeout=10)[0].decode(errors="replace")
    if failed:
        print(out)
    upstream.shutdown()
    print(f"openai-sdk: {passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
