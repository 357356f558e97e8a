"""Transport mistakes named with their own cause and fix.

- https:// to a plain-HTTP server (a scriptable registry without TLS): the
  TLS handshake gets an HTTP answer; cause `plain-http`, "use http:// or
  --plain-http".
- http:// to a TLS port (Debian's docker-registry with TLS, which answers
  400 "Client sent an HTTP request to an HTTPS server."): cause `tls-port`.
- 429 on /v2/ with Retry-After and Docker Hub's RateLimit-* headers: cause
  `rate-limit`, with when to retry and how much is left.
- A Bearer challenge whose realm is not an http(s) URL: a bad challenge,
  not a libcurl protocol error.
"""

import re
import unittest

import harness as h
import scripted_registry as sr

REGISTRY = "check.integration.oci.registry"


class TransportMistakesTest(h.DoctorTestCase):

    def probe(self, url, *extra):
        code, report, err = self.doctor_json(["run", "--registry", url, "--check", REGISTRY,
                                              "--timeout", "10"] + list(extra))
        self.assertEqual(code, h.EXIT_FAIL, err)
        return h.result_of(report, REGISTRY), report

    def test_https_to_plain_http_server(self):
        reg = self.start_server(sr.ScriptedRegistry())
        result, _ = self.probe("https://" + reg.host)
        self.assertEqual(result["details"]["cause"], "plain-http")
        self.assertIn("speaks plain HTTP", result["message"])
        self.assertIn("use http://%s or --plain-http" % reg.host, result["message"])
        self.assertEqual(result["remediation"]["category"], "tls")
        # the command repeats the run's own settings (here its --timeout)
        self.assertIn("ocidoctor run --registry http://%s --timeout 10" % reg.host,
                      result["remediation"]["fix"]["commands"])

    def test_http_to_distribution_tls_port(self):
        reg = self.start_server(h.Registry(tls=True))
        result, _ = self.probe("http://" + reg.host)
        self.assertEqual(result["details"]["httpStatus"], 400)
        self.assertRegex(result["message"], r"speaks HTTPS on this port")
        self.assertIn("use https://" + reg.host, result["message"])
        self.assertEqual(result["remediation"]["category"], "tls")
        self.assertIn("Use https://", result["remediation"]["fix"]["text"])
        code, out, err = self.doctor(["run", "--registry", "http://" + reg.host, "--check",
                                      REGISTRY])
        self.assertIn("$ ocidoctor run --registry https://%s" % reg.host, out)

    def test_rate_limited_v2(self):
        reg = self.start_server(sr.ScriptedRegistry(status_override={("GET", r"^/v2/?$"): (
            429, {"Retry-After": "3600", "RateLimit-Limit": "100;w=21600",
                  "RateLimit-Remaining": "0;w=21600", "Docker-RateLimit-Source": "192.0.2.1"},
            sr.error_body("TOOMANYREQUESTS", "rate limit exceeded"))}))
        result, report = self.probe(reg.url)
        self.assertEqual(result["remediation"]["category"], "rate-limit")
        self.assertIn("rate-limiting", result["message"])
        self.assertIn("retry in 3600 s", result["message"])
        self.assertIn("0 of 100 requests left per 6 h", result["message"])
        details = result["details"]
        self.assertEqual((details["retryAfterSeconds"], details["rateLimitLimit"],
                          details["rateLimitRemaining"], details["rateLimitWindowSeconds"]),
                         (3600, 100, 0, 21600))
        self.assertIn("rateLimit", report)

    def test_rate_limited_with_a_date(self):
        reg = self.start_server(sr.ScriptedRegistry(status_override={("GET", r"^/v2/?$"): (
            429, {"Retry-After": "Wed, 21 Oct 2037 07:28:00 GMT"}, b"")}))
        result, _ = self.probe(reg.url)
        self.assertIn("retry after Wed, 21 Oct 2037 07:28:00 GMT", result["message"])
        self.assertNotIn("retryAfterSeconds", result["details"])

    def test_bearer_realm_that_is_not_http(self):
        reg = self.start_server(sr.ScriptedRegistry(status_override={("GET", r"^/v2/?$"): (
            401, {"WWW-Authenticate": 'Bearer realm="ftp://auth.example/token",service="s"'},
            sr.error_body("UNAUTHORIZED", "authentication required"))}))
        result, _ = self.probe(reg.url)
        self.assertIn("the registry's WWW-Authenticate realm 'ftp://auth.example/token' "
                      "is not an HTTP(S) URL", result["message"])
        self.assertNotRegex(result["message"], re.compile("protocol", re.I))
        self.assertEqual(result["remediation"]["category"], "auth")


if __name__ == "__main__":
    unittest.main()
