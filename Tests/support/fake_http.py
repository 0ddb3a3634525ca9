"""What the Python checks share: a JSON reply, a chunked-encoding writer, a free port, and the
runner that prints each check's outcome."""
import json
import random
import socket
import time
import traceback
import urllib.request
from http.server import BaseHTTPRequestHandler


class FakeHTTPHandler(BaseHTTPRequestHandler):
    """A request handler with `reply` (a JSON body) and `chunk` (one chunk of a chunked body;
    an empty one ends it)."""

    def reply(self, obj):
        data = json.dumps(obj).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def chunk(self, data):
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()


def free_port():
    """A free port on 127.0.0.1 below the kernel's ephemeral range: one handed out for port 0
    is ephemeral, and an outgoing connection may take it before the server binds it."""
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            low = int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        low = 32768
    candidates = [random.randrange(10000, low) for _ in range(200)] if low - 10000 >= 1000 else []
    for port in candidates + [0]:
        s = socket.socket()
        try:
            s.bind(("127.0.0.1", port))
            return s.getsockname()[1]
        except OSError:
            continue
        finally:
            s.close()
    raise OSError("no free port")


def run_checks(checks):
    """Runs each `(name, fn)`, printing `ok   name` or `FAIL name` and the traceback; returns
    (passed, failed)."""
    passed = failed = 0
    for name, fn in checks:
        try:
            fn()
            passed += 1
            print(f"ok   {name}")
        except Exception:
            failed += 1
            print(f"FAIL {name}")
            traceback.print_exc()
    return passed, failed


def wait_ready(port, timeout=30):
    """Waits until a gateway on 127.0.0.1:`port` answers /health/readiness (at most `timeout` s)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/health/readiness", timeout=1)
            return True
        except Exception:
            time.sleep(0.1)
    return False
