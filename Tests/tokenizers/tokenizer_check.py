#!/usr/bin/env python3
"""Our tokenizers against the PyPI `tokenizers` and `tiktoken` packages on random text.

Usage: python3 Tests/tokenizers/tokenizer_check.py .build/debug/switchboard

For each fixture tokenizer of Tests/TokenizersTests/Fixtures (and the rank file under each
tiktoken pattern) it makes a few hundred random strings mixing scripts, emoji, marks, digits,
contractions, white-space runs and special tokens, encodes them with the Python package and with
`switchboard count-tokens`, and requires equal ids. Prints `tokenizers: N passed, M failed`.
"""
import json
import os
import random
import subprocess
import sys

from tokenizers import Tokenizer
import tiktoken

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "fixtures", "tokenizers"))
import generate  # noqa: E402  (the patterns and corpus the fixtures were made with)

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "TokenizersTests", "Fixtures")

POOLS = [
    "abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "0123456789", "  ", "\t\n\r\n\n ",
    "'sStTdDmMlLvVeErR", "!?.,;:-_/\\()[]{}<>|@#$%^&*+=~`\"", "éèüßçñøåÆŒ", "\u0301\u0308\u0327\u093f\u0e31",
    "你好世界中文字", "ひらがなカタカナ", "한국어문장", "ภาษาไทย", "हिन्दीभाषा", "Москвастолица", "ελληνικά",
    "العربية", "👍🏽🎉👨‍👩‍👧🇫🇷❤️😀", "\u00a0\u2003\u3000\u2028\u0085", "ǅǈǲʰˢ", "٣٤٥ⅷ²³", "ſ",
]
SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<mask>", "hello world", "foo", " foo "]


def random_text(rng):
    parts = []
    for _ in range(rng.randint(0, 12)):
        if rng.random() < 0.08:
            parts.append(rng.choice(SPECIALS))
            continue
        pool = rng.choice(POOLS)
        parts.append("".join(rng.choice(pool) for _ in range(rng.randint(1, 8))))
        if rng.random() < 0.5:
            parts.append(rng.choice([" ", "  ", "\n", " \n ", "\t", ""]))
    return "".join(parts)


def ours(binary, args, texts):
    out = subprocess.run([binary, "count-tokens", *args], input=json.dumps(texts).encode(), capture_output=True, check=False)
    if out.returncode != 0:
        raise RuntimeError(out.stderr.decode())
    return json.loads(out.stdout)


def compare(name, want, got, texts):
    bad = [(t, w, g) for t, w, g in zip(texts, want, got) if w != g]
    if bad:
        t, w, g = bad[0]
        print(f"tokenizers FAIL: {name}: {len(bad)} of {len(texts)} differ; first {t!r}: reference {w} ours {g}")
        return False
    print(f"tokenizers ok: {name} ({len(texts)} texts)")
    return True


def main():
    binary = sys.argv[1]
    rng = random.Random(int(os.environ.get("TOKENIZER_CHECK_SEED", "12345")))
    texts = generate.CORPUS + [random_text(rng) for _ in range(400)]
    passed = failed = 0
    for name in sorted(os.listdir(FIXTURES)):
        if not name.startswith("hf-"):
            continue
        path = os.path.join(FIXTURES, name)
        tok = Tokenizer.from_file(path)
        want = [tok.encode(t, add_special_tokens=False).ids for t in texts]
        ok = compare(name, want, ours(binary, ["--tokenizer-json", path], texts), texts)
        passed, failed = passed + ok, failed + (not ok)
    ranks_path = os.path.join(FIXTURES, "ranks.tiktoken")
    ranks = {}
    import base64
    for line in open(ranks_path):
        token, rank = line.split()
        ranks[base64.b64decode(token)] = int(rank)
    for name, pattern in generate.TIKTOKEN_PATTERNS.items():
        enc = tiktoken.Encoding(name="check-" + name, pat_str=pattern, mergeable_ranks=ranks, special_tokens={})
        want = [enc.encode(t, disallowed_special=()) for t in texts]
        ok = compare("tiktoken " + name, want, ours(binary, ["--tiktoken", ranks_path, "--encoding", pattern], texts), texts)
        passed, failed = passed + ok, failed + (not ok)
    print(f"tokenizers: {passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
