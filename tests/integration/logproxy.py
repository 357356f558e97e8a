"""A forwarding HTTP proxy on loopback that records what passes through it.

A client configured with http_proxy=http://127.0.0.1:PORT sends it
absolute-form requests ("GET http://host:port/v2/ HTTP/1.1"); the proxy
records each one (method, URL, whether it carried an Authorization or
Proxy-Authorization header, and the Authorization value itself, so a test
can prove a password passed through) and forwards it to the origin server,
relaying the answer. CONNECT (https) is recorded and refused with 502.

    with LoggingProxy() as proxy:
        env = {"http_proxy": proxy.url}
        ...
        assert not proxy.authorized_requests()

Only the Python standard library is used.
"""

import http.client
import http.server
import threading
import urllib.parse

import harness as h

_HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "proxy-authorization",
               "te", "trailer", "transfer-encoding", "upgrade"}


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128


class LoggingProxy(h.Service):

    def __init__(self):
        self._lock = threading.Lock()
        self._log = []
        self._httpd = None
        self.port = None

    def start(self):
        self._httpd = _Server(("127.0.0.1", 0), self._handler_class())
        self.port = self._httpd.server_address[1]
        h.serve_in_background(self._httpd, "logging-proxy")
        h._track(self)
        return self

    def stop(self):
        h._untrack(self)
        if self._httpd is not None:
            h.shut_down(self._httpd)
            self._httpd = None

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    def requests(self):
        with self._lock:
            return [dict(r) for r in self._log]

    def authorized_requests(self):
        return [r for r in self.requests() if r["authorization"]]

    def _record(self, entry):
        with self._lock:
            self._log.append(entry)

    def _handler_class(self):
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _forward(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                auth = self.headers.get("Authorization")
                proxy._record({"method": self.command, "url": self.path,
                               "authorization": auth is not None,
                               "authorization_value": auth,
                               "proxy_authorization": "Proxy-Authorization" in self.headers,
                               "body": body})
                target = urllib.parse.urlsplit(self.path)
                if target.scheme != "http" or not target.hostname:
                    self.send_error(400, "absolute http URLs only")
                    return
                headers = {k: v for k, v in self.headers.items()
                           if k.lower() not in _HOP_BY_HOP}
                conn = http.client.HTTPConnection(target.hostname, target.port or 80, timeout=10)
                try:
                    path = target.path + ("?" + target.query if target.query else "")
                    conn.request(self.command, path or "/", body=body, headers=headers)
                    resp = conn.getresponse()
                    data = resp.read()
                except OSError as e:
                    self.send_error(502, "cannot reach the origin: %s" % e)
                    return
                finally:
                    conn.close()
                self.send_response(resp.status)
                for k, v in resp.getheaders():
                    if k.lower() not in _HOP_BY_HOP and k.lower() != "content-length":
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = _forward

            def do_CONNECT(self):
                proxy._record({"method": "CONNECT", "url": self.path, "authorization": False,
                               "authorization_value": None,
                               "proxy_authorization": "Proxy-Authorization" in self.headers,
                               "body": None})
                self.send_error(502, "no tunnels here")

        return Handler
