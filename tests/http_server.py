"""A real HTTP/1.1 server on 127.0.0.1 for the tests that must see the connections themselves
(`responses` replaces the transport, so it cannot tell a kept connection from a new one).

    with http_server(answer) as server:
        ... # requests to server.url
    server.requests  # [(client (host, port), method, path)], one TCP connection per client
    server.most_in_flight  # the most requests it was answering at once
"""

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Server:
    url: str
    requests: list[tuple[tuple[str, int], str, str]] = field(default_factory=list)
    in_flight: int = 0
    most_in_flight: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def connections(self) -> int:
        return len({client for client, _method, _path in self.requests})


@contextmanager
def http_server(
    answer: Callable[[str, str], tuple[int, dict]], *, takes: float = 0.0
) -> Iterator[Server]:
    """Serve `answer(method, path) -> (status, json body)` with keep-alive, as Twilio and Xero
    do, each answer `takes` seconds."""
    server: Server

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def _serve(self):
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with server.lock:
                server.requests.append((self.client_address, self.command, self.path))
                server.in_flight += 1
                server.most_in_flight = max(server.most_in_flight, server.in_flight)
                status, body = answer(self.command, self.path)
            time.sleep(takes)
            with server.lock:
                server.in_flight -= 1
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = _serve

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    server = Server(url=f"http://127.0.0.1:{httpd.server_address[1]}")
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        httpd.shutdown()
        httpd.server_close()
