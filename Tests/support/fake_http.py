"""What the Python checks' fake upstreams share: a JSON reply, a chunked-encoding writer, a free port."""
import json
import socket
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
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port
