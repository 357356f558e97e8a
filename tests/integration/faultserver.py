"""A raw-socket HTTP server for answers no well-behaved server library gives.

ScriptedRegistry (scripted_registry.py) answers like a registry, with
whatever statuses, headers and bodies a test picks, but always as valid
HTTP. The faults here break HTTP itself, or time: a connection reset in
the middle of a body, a request accepted and never answered, a response
dripped one byte a second, a body far over ocidoctor's 4 MiB cap (announced
by Content-Length, chunked without end, or a gzip bomb), an invalid status
line, a header block over the 100 KiB cap, a redirect to itself; and, for
where credentials go, redirects elsewhere (redirect, redirect_to) and a
401 challenge that is never satisfied (CHALLENGE).

A FaultServer is told, per (method, path regex), what to do; the first
matching route wins. Without a route, GET and HEAD of /v2/ answer 200 {}
like an open registry and every other path answers 404. A server can listen
on another loopback address (host="127.0.0.2"): that is another origin, so
it stands for "another host" when a test checks where credentials go. Every
request is recorded with whether it carried an Authorization header (and
its scheme); the value itself is never kept.

    with FaultServer({("GET", r"^/v2/?$"): RESET}) as srv:
        ... run ocidoctor against srv.url ...

Servers register with harness's cleanup list like every other server, so
none outlives the test run; stop() also wakes every handler that waits
(HANG, DRIP) and closes its connection.

Only the Python standard library is used. `python3 faultserver.py MODE`
serves /v2/ with MODE until Ctrl-C, for trying it with curl.
"""

import json
import re
import select
import socket
import socketserver
import struct
import sys
import threading
import time
import zlib

import harness as h

# Behaviours (a route's value is one of these, or a tuple made by the
# functions below).
RESET = "reset"                  # headers + part of the body, then a TCP reset
HANG = "hang"                    # read the request, never answer (until the client leaves)
DRIP = "drip"                    # a valid 200, one byte a second
HUGE_LENGTH = "huge-length"      # Content-Length: 64 MiB, and stream it
HUGE_CHUNKED = "huge-chunked"    # Transfer-Encoding: chunked, never ending
GZIP_BOMB = "gzip-bomb"          # 64 KiB of gzip that inflates to 64 MiB
BAD_STATUS = "bad-status"        # "HTTP/1.1 abc"
HUGE_HEADERS = "huge-headers"    # a 200 whose header block is about 200 KiB
REDIRECT_LOOP = "redirect-loop"  # 302 to the same URL, for ever
CHALLENGE = "challenge"          # 401 with a Basic challenge (never satisfied)

HUGE_SIZE = 64 * 1024 * 1024
_BLOCK = b"\0" * (64 * 1024)
_bomb = None


def respond(status, headers=(), body=b""):
    """A behaviour: a normal answer (keep-alive). headers: dict or pairs."""
    if isinstance(body, (dict, list)):
        body = json.dumps(body).encode()
    elif isinstance(body, str):
        body = body.encode()
    pairs = list(headers.items()) if isinstance(headers, dict) else list(headers)
    return ("respond", status, pairs, body)


def redirect(location, status=302):
    """A behaviour: a redirect to location (absolute or relative)."""
    return respond(status, [("Location", location)], b"")


def redirect_to(base, status=302):
    """A behaviour: a redirect to the same request target on another server
    (base is its URL without a path, e.g. "http://127.0.0.2:5000")."""
    return ("redirect-to", status, base.rstrip("/"))


OPEN_BASE = respond(200, [("Content-Type", "application/json"),
                          ("Docker-Distribution-API-Version", "registry/2.0")], b"{}")
NOT_FOUND = respond(404, [("Content-Type", "text/plain")], b"404 page not found\n")


def _gzip_bomb():
    """gzip of HUGE_SIZE zero bytes, compressed block by block (so that this
    process never holds the inflated 64 MiB)."""
    global _bomb
    if _bomb is None:
        z = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
        parts = [z.compress(_BLOCK) for _ in range(HUGE_SIZE // len(_BLOCK))]
        _bomb = b"".join(parts) + z.flush()
    return _bomb


class _Reader:
    """Reads lines and bytes from a socket without socket.makefile (whose
    extra reference would keep the descriptor open past an abortive close)."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def _fill(self):
        data = self.sock.recv(65536)
        if not data:
            raise EOFError
        self.buf += data

    def line(self, limit=65536):
        while b"\n" not in self.buf:
            if len(self.buf) > limit:
                raise EOFError
            self._fill()
        line, _, self.buf = self.buf.partition(b"\n")
        return line + b"\n"

    def read(self, n):
        while len(self.buf) < n:
            self._fill()
        data, self.buf = self.buf[:n], self.buf[n:]
        return data


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, owner, host):
        self.owner = owner
        if ":" in host:
            self.address_family = socket.AF_INET6
        super().__init__((host, 0), _Handler)


class _Handler(socketserver.BaseRequestHandler):

    def handle(self):
        owner = self.server.owner
        sock = self.request
        owner._opened(sock)
        try:
            reader = _Reader(sock)
            while not owner.stopping.is_set():
                request = _read_request(reader)
                if request is None:
                    return
                behaviour = owner._record_and_route(request)
                if not self._perform(sock, request, behaviour):
                    return
        except (EOFError, OSError, ValueError):
            return
        finally:
            owner._closed(sock)

    def _perform(self, sock, request, behaviour):
        """Carries out a behaviour; returns True to read another request."""
        owner = self.server.owner
        method, path = request["method"], request["path"]
        if method == "HEAD" and behaviour in (HUGE_LENGTH, HUGE_CHUNKED, GZIP_BOMB):
            # A HEAD answer has no body: the headers, then the connection ends
            # (a body would be read as the next answer on a reused connection).
            sock.sendall(_head(200, [("Content-Type", "application/json"),
                                     ("Content-Length", str(HUGE_SIZE))]))
            return False
        if isinstance(behaviour, tuple) and behaviour[0] == "respond":
            _, status, headers, body = behaviour
            head = _head(status, headers + [("Content-Length", str(len(body)))])
            sock.sendall(head + (b"" if method == "HEAD" else body))
            return True
        if isinstance(behaviour, tuple) and behaviour[0] == "redirect-to":
            _, status, base = behaviour
            sock.sendall(_head(status, [("Location", base + request["target"]),
                                        ("Content-Length", "0")]))
            return True
        if behaviour == RESET:
            sock.sendall(_head(200, [("Content-Type", "application/json"),
                                     ("Content-Length", "100000")]) + b"{" + b" " * 999)
            time.sleep(0.05)   # let the client read what was sent
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            sock.close()       # with linger 0: RST, not FIN
            return False
        if behaviour == HANG:
            # the connection stays open until the client closes it or the server stops
            while not owner.stopping.is_set():
                ready, _, _ = select.select([sock], [], [], 0.05)
                if ready and not sock.recv(4096):
                    return False
            return False
        if behaviour == DRIP:
            data = _head(200, [("Content-Type", "application/json"),
                               ("Content-Length", "2")]) + b"{}"
            for i in range(len(data)):
                sock.sendall(data[i:i + 1])
                if owner.stopping.wait(1.0):
                    return False
            return False
        if behaviour == HUGE_LENGTH:
            sock.sendall(_head(200, [("Content-Type", "application/json"),
                                     ("Content-Length", str(HUGE_SIZE))]))
            _stream(owner, sock, HUGE_SIZE, lambda block: block)
            return False
        if behaviour == HUGE_CHUNKED:
            sock.sendall(_head(200, [("Content-Type", "application/json"),
                                     ("Transfer-Encoding", "chunked")]))
            chunk = b"%x\r\n" % len(_BLOCK) + _BLOCK + b"\r\n"
            _stream(owner, sock, None, lambda block: chunk)
            return False
        if behaviour == GZIP_BOMB:
            bomb = _gzip_bomb()
            sock.sendall(_head(200, [("Content-Type", "application/json"),
                                     ("Content-Encoding", "gzip"),
                                     ("Content-Length", str(len(bomb)))]) + bomb)
            owner.stopping.wait(5)   # let the client decide; never a second request
            return False
        if behaviour == BAD_STATUS:
            sock.sendall(b"HTTP/1.1 abc\r\nContent-Length: 0\r\n\r\n")
            owner.stopping.wait(1)
            return False
        if behaviour == HUGE_HEADERS:
            filler = [("X-Filler-%04d" % i, "x" * 100) for i in range(2000)]
            sock.sendall(_head(200, [("Content-Type", "application/json")] + filler +
                               [("Content-Length", "2")]) + b"{}")
            owner.stopping.wait(1)
            return False
        if behaviour == REDIRECT_LOOP:
            sock.sendall(_head(302, [("Location", path), ("Content-Length", "0")]))
            return True
        if behaviour == CHALLENGE:
            body = b'{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}'
            sock.sendall(_head(401, [("WWW-Authenticate", 'Basic realm="fault-server"'),
                                     ("Content-Type", "application/json"),
                                     ("Content-Length", str(len(body)))]) +
                         (b"" if method == "HEAD" else body))
            return True
        raise ValueError("unknown behaviour %r" % (behaviour,))


def _stream(owner, sock, total, make):
    """Sends blocks until total bytes (None: for ever), the client goes or
    the server stops. Send errors end it quietly."""
    sent = 0
    try:
        while not owner.stopping.is_set() and (total is None or sent < total):
            block = _BLOCK if total is None else _BLOCK[:min(len(_BLOCK), total - sent)]
            sock.sendall(make(block))
            sent += len(block)
            owner._count_streamed(len(block))
    except OSError:
        pass


def _head(status, headers):
    reason = {200: "OK", 301: "Moved Permanently", 302: "Found", 307: "Temporary Redirect",
              308: "Permanent Redirect", 401: "Unauthorized",
              404: "Not Found"}.get(status, "X")
    lines = ["HTTP/1.1 %d %s" % (status, reason)] + ["%s: %s" % kv for kv in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _read_request(reader):
    """Parses one request (line, headers, body); None at end of stream."""
    try:
        line = reader.line()
    except EOFError:
        return None
    parts = line.decode("latin-1").split()
    if len(parts) < 2:
        raise ValueError("bad request line")
    headers = {}
    size = 0
    while True:
        raw = reader.line()
        size += len(raw)
        if size > 1024 * 1024:
            raise ValueError("request header block too large")
        text = raw.decode("latin-1").rstrip("\r\n")
        if not text:
            break
        name, _, value = text.partition(":")
        headers[name.strip().lower()] = value.strip()
    if "chunked" in headers.get("transfer-encoding", "").lower():
        while True:
            n = int(reader.line().split(b";")[0].strip() or b"0", 16)
            if n == 0:
                while reader.line() not in (b"\r\n", b"\n"):
                    pass
                break
            reader.read(n + 2)
    elif headers.get("content-length"):
        reader.read(int(headers["content-length"]))
    return {"method": parts[0], "target": parts[1], "path": parts[1].split("?", 1)[0],
            "headers": headers}


class FaultServer(h.Service):
    """A misbehaving HTTP server on host:<free port> (default 127.0.0.1; "::1"
    for IPv6, then `host` is "[::1]:PORT").

    routes: {(METHOD, path_regex): behaviour}; METHOD "*" matches any; the
    regex is searched in the request target (path and query). Unmatched
    GET/HEAD /v2/ answer OPEN_BASE (200 {}), everything else NOT_FOUND.
    """

    def __init__(self, routes=None, host="127.0.0.1"):
        self.routes = dict(routes or {})
        self.bind_host = host
        self.port = None
        self.stopping = threading.Event()
        self.streamed = 0          # bytes of huge bodies handed to the socket so far
        self._lock = threading.Lock()
        self._log = []
        self._conns = set()
        self._server = None

    # -- lifecycle --

    def start(self):
        self._server = _Server(self, self.bind_host)
        self.port = self._server.server_address[1]
        h.serve_in_background(self._server, "fault-server")
        h._track(self)
        return self

    def stop(self):
        h._untrack(self)
        self.stopping.set()
        if self._server is not None:
            h.shut_down(self._server)
            self._server = None
        with self._lock:
            conns, self._conns = list(self._conns), set()
        for sock in conns:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    @property
    def host(self):
        if ":" in self.bind_host:
            return "[%s]:%d" % (self.bind_host, self.port)
        return "%s:%d" % (self.bind_host, self.port)

    @property
    def url(self):
        return "http://" + self.host

    # -- what a test asserts on --

    def requests(self, method=None, path_contains=None):
        """Recorded requests, oldest first: method, path, target,
        authorization (bool), auth_scheme (e.g. "Basic", or None), time."""
        with self._lock:
            return [dict(r) for r in self._log
                    if (method is None or r["method"] == method)
                    and (path_contains is None or path_contains in r["path"])]

    def open_connections(self):
        """Connections from clients that are open now."""
        with self._lock:
            return len(self._conns)

    def authorized_requests(self):
        return [r for r in self.requests() if r["authorization"]]

    # -- internals --

    def _record_and_route(self, request):
        auth = request["headers"].get("authorization")
        entry = {"method": request["method"], "path": request["path"],
                 "target": request["target"], "authorization": auth is not None,
                 "auth_scheme": auth.split(" ", 1)[0] if auth else None,
                 "time": time.monotonic()}
        with self._lock:
            self._log.append(entry)
        for (method, pattern), behaviour in self.routes.items():
            if method in ("*", request["method"]) and re.search(pattern, request["target"]):
                return behaviour
        if request["method"] in ("GET", "HEAD") and re.match(r"^/v2/?$", request["path"]):
            return OPEN_BASE
        return NOT_FOUND

    def _opened(self, sock):
        with self._lock:
            self._conns.add(sock)

    def _closed(self, sock):
        with self._lock:
            self._conns.discard(sock)

    def _count_streamed(self, n):
        with self._lock:
            self.streamed += n


if __name__ == "__main__":
    mode = sys.argv[1] if len(sys.argv) > 1 else RESET
    h.serve_until_interrupted(FaultServer({("*", r"^/v2/?$"): mode}),
                              "fault server (%s) at {service.url}" % mode)
