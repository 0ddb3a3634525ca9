"""Schemathesis hooks for Tests/openapi/schemathesis_check.py (loaded through SCHEMATHESIS_HOOKS).

Generated requests name random model groups, which the gateway rightly answers with a 400 before
anything else is looked at. So that most generated requests also reach the routing, the mock
answers and the relay to the fake upstream, these hooks replace the generated `model` (in the body
and in the `{model}` path parameter) by a configured model group for three cases in four, chosen
from the generated data itself so that a seeded run stays reproducible. The fourth keeps the random
name and so keeps testing the unknown-model answer. A generated completion request without `stream` gets
`"stream": true` in one case of two (streams are otherwise rare in what Hypothesis draws); a
generated `stream` is kept. Nothing else of the generated data is changed.
"""
import json
import zlib

import schemathesis

# The model groups of the config that schemathesis_check.py writes.
CHAT = ["gpt-4o", "gpt-4o", "claude", "gpt-4o-mock"]
EMBED = ["text-embedding-3-small", "text-embedding-3-small", "embedding-mock"]


def _digest(value):
    return zlib.crc32(json.dumps(value, sort_keys=True, default=str).encode("utf-8", "surrogatepass"))


def _group(path, digest):
    if digest % 4 == 0:
        return None
    groups = EMBED if path.endswith("/embeddings") else CHAT
    return groups[(digest >> 2) % len(groups)]


@schemathesis.hook
def map_body(ctx, body):
    if isinstance(body, dict) and isinstance(body.get("model"), str):
        digest = _digest(body)
        group = _group(ctx.operation.path, digest)
        if group:
            body["model"] = group
        if "stream" not in body and ctx.operation.path.endswith("completions") and (digest >> 8) % 2:
            body["stream"] = True
    return body


@schemathesis.hook
def map_path_parameters(ctx, parameters):
    if isinstance(parameters, dict) and isinstance(parameters.get("model"), str):
        group = _group(ctx.operation.path, _digest(parameters))
        if group:
            parameters["model"] = group
    return parameters
