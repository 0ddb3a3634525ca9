"""The local cluster (deploy/local-cluster.sh: redis-server, three pods of two workers, nginx in
front) under test: cluster-wide rpm, cooldown propagation, a rolling reload under load, a killed pod.

    python3 Tests/cluster/cluster_check.py [BINARY]

Loopback only, bounded in time; prints one line per check and `cluster: N passed, M failed`.
"""
import http.client
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.abspath(sys.argv[1]) if len(sys.argv) > 1 else os.path.join(ROOT, ".build/debug/switchboard")
KEY = "sk-cluster-test"
DIR = tempfile.mkdtemp(prefix="sb-cluster-")
ENV = dict(os.environ, CLUSTER_DIR=DIR, SWITCHBOARD_BIN=BIN, SWITCHBOARD_MASTER_KEY=KEY,
           SWITCHBOARD_WATCH_CONFIG_SECONDS="0")

CONFIG = """
model_list:
  - model_name: limited
    litellm_params: {model: openai/limited, mock_response: "ok", rpm: 120}
  - model_name: cool
    litellm_params: {model: openai/failing, mock_response: "litellm.RateLimitError"}
    model_info: {id: failing-deployment}
  - model_name: cool
    litellm_params: {model: openai/healthy, mock_response: "healthy"}
    model_info: {id: healthy-deployment}
  - model_name: steady
    litellm_params: {model: openai/steady, mock_response: "steady"}
router_settings:
  num_retries: 1
  cooldown_time: 60
  # A debug build on a busy CI machine can take longer than the 5 ms default to hear from Redis,
  # and would then fail open to per-process limits: what is checked here is the cluster limit.
  redis_timeout_ms: 1000
general_settings:
  master_key: os.environ/SWITCHBOARD_MASTER_KEY
"""


def read(name):
    with open(os.path.join(DIR, name)) as f:
        return f.read().strip()


def call(port, model, timeout=10):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    body = json.dumps({"model": model, "messages": [{"role": "user", "content": "hi"}]})
    c.request("POST", "/v1/chat/completions", body, {"Content-Type": "application/json", "Authorization": "Bearer " + KEY})
    r = c.getresponse()
    data = r.read()
    headers = {k.lower(): v for k, v in r.getheaders()}
    c.close()
    return r.status, headers, data


def models(port):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    c.request("GET", "/v1/models", headers={"Authorization": "Bearer " + KEY})
    data = json.loads(c.getresponse().read())
    c.close()
    return [m["id"] for m in data["data"]]


results = []


def check(name):
    def wrap(fn):
        start = time.time()
        try:
            detail = fn()
            results.append(True)
            print(f"ok   {name} ({time.time() - start:.1f} s){': ' + detail if detail else ''}", flush=True)
        except AssertionError as e:
            results.append(False)
            print(f"FAIL {name}: {e}", flush=True)
        return fn
    return wrap


def main():
    config_path = os.path.join(DIR, "input.yaml")
    with open(config_path, "w") as f:
        f.write(CONFIG)
    subprocess.run([os.path.join(ROOT, "deploy/local-cluster.sh"), "start", config_path], env=ENV, check=True, timeout=120)
    front = int(read("front.port"))
    pods = [int(read(f"pod{i}.port")) for i in (1, 2, 3)]
    try:
        run_checks(front, pods)
    finally:
        subprocess.run([os.path.join(ROOT, "deploy/local-cluster.sh"), "stop"], env=ENV, timeout=60)
    failed = results.count(False)
    print(f"cluster: {len(results) - failed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


def run_checks(front, pods):
    @check("rpm 120 offered twice over across three pods: admitted within [0.99 R, R]")
    def _():
        statuses = []
        lock = threading.Lock()

        def worker(port, n):
            for _ in range(n):
                s, _, _ = call(port, "limited")
                with lock:
                    statuses.append(s)
        threads = [threading.Thread(target=worker, args=(p, 80)) for p in pods]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        admitted = statuses.count(200)
        assert statuses.count(200) + statuses.count(429) == len(statuses), f"unexpected statuses {set(statuses)}"
        assert 119 <= admitted <= 120, f"admitted {admitted} of 240 with rpm 120"
        return f"admitted {admitted} of 240"

    @check("a cooldown tripped in one pod is honoured by the others within 100 ms")
    def _():
        tripped = None
        for _ in range(50):
            s, h, _ = call(pods[0], "cool")
            assert s == 200, f"status {s}"
            if h.get("x-litellm-attempted-retries") == "1":
                tripped = time.time()
                break
        assert tripped, "the failing deployment was never picked in pod 1"
        time.sleep(0.1)
        for port in pods[1:]:
            for _ in range(20):
                s, h, _ = call(port, "cool")
                assert s == 200 and h.get("x-litellm-model-id") == "healthy-deployment", \
                    f"pod {port} still picked the cooling deployment"
                assert h.get("x-litellm-attempted-retries") == "0", f"pod {port} retried: the cooldown was not seen"
        return ""

    @check("rolling reload (SIGHUP to each pod in turn, a model added) under load: no failed request")
    def _():
        stop = threading.Event()
        failures = []
        count = [0]

        def load():
            while not stop.is_set():
                try:
                    s, _, _ = call(front, "steady")
                    count[0] += 1
                    if s != 200:
                        failures.append(s)
                except Exception as e:  # a reset or refused connection
                    failures.append(repr(e))
        threads = [threading.Thread(target=load) for _ in range(4)]
        for t in threads:
            t.start()
        with open(os.path.join(DIR, "config.yaml"), "w") as f:
            f.write(CONFIG.replace("router_settings:", '  - model_name: added\n    litellm_params: {model: openai/added, mock_response: "added"}\nrouter_settings:'))
        for i in (1, 2, 3):
            os.kill(int(read(f"pod{i}.pid")), signal.SIGHUP)
            # The reload is done when the pod's supervisor says the new generation serves alone.
            deadline = time.time() + 60
            while time.time() < deadline and "generation 2 serving" not in read(f"pod{i}.log"):
                time.sleep(0.05)
            assert "generation 2 serving" in read(f"pod{i}.log"), f"pod {i} did not finish its reload"
            for _ in range(10):
                assert "added" in models(pods[i - 1]), f"pod {i} answered with the old model list after its reload"
        time.sleep(0.5)
        stop.set()
        for t in threads:
            t.join()
        for port in pods:
            s, _, body = call(port, "added")
            assert s == 200 and b"added" in body, f"pod {port}: the new model does not answer ({s})"
        assert not failures, f"{len(failures)} failed of {count[0]}: {failures[:5]}"
        return f"{count[0]} requests, 0 failed"

    @check("one pod killed with SIGKILL: traffic continues on the others through nginx")
    def _():
        os.kill(int(read("pod2.pid")), signal.SIGKILL)
        ok = 0
        started = time.time()
        for _ in range(300):
            s, _, _ = call(front, "steady")
            ok += s == 200
        rate = 300 / (time.time() - started)
        assert ok >= 297, f"{ok} of 300 answered"
        return f"{ok} of 300 answered, {rate:.0f} requests/s sequential through nginx"


main()
