"""Proxies from the environment, seen by a logging proxy on loopback.

Plain-HTTP credentials are allowed only to a loopback registry (or token
realm), and only because nothing but this machine sees them. libcurl routes
127.0.0.1 through http_proxy like any other host, so a proxy would see them
in clear: such requests go direct. Everything else keeps using the proxy
as libcurl users expect (http_proxy, no_proxy). A proxy that cannot be
reached is named as the proxy, with the variable that chose it.
"""

import json
import unittest

import harness as h
import logproxy
import scripted_registry as sr

USER, PASSWORD = "alice", "proxy-test-s3cret"


class ProxyTest(h.DoctorTestCase):

    @classmethod
    def setUpClass(cls):
        h.add_user_secrets(USER, PASSWORD)
        cls.tokens = cls.start_server(h.TokenServer(users={USER: PASSWORD}))
        cls.basic = cls.start_server(sr.ScriptedRegistry(auth="basic", users={USER: PASSWORD}))
        cls.bearer = cls.start_server(sr.ScriptedRegistry(auth="token",
                                                          token_realm=cls.tokens.realm,
                                                          token_service=cls.tokens.service))

    def secrets(self):
        return (PASSWORD, h.basic_auth_value(USER, PASSWORD))

    def proxy(self):
        proxy = logproxy.LoggingProxy().start()
        self.addCleanup(proxy.stop)
        return proxy

    def run_with_password(self, reg, env, *extra):
        return self.doctor_json(["run", "--registry", reg.url, "--timeout", "10",
                                 "--username", USER, "--password-stdin"] + list(extra),
                                PASSWORD + "\n", env)

    def assertNothingSecretThrough(self, proxy):
        leaked = [(r["method"], r["url"]) for r in proxy.requests()
                  if r["authorization"] or (r["body"] and PASSWORD.encode() in r["body"])]
        self.assertEqual(leaked, [], "credentials went through the proxy")

    def test_basic_credentials_to_loopback_never_go_through_the_proxy(self):
        proxy = self.proxy()
        code, report, err = self.run_with_password(self.basic, {"http_proxy": proxy.url})
        self.assertStatus(report, "credentials", "pass", err)
        self.assertStatus(report, "pull", "pass", err)
        self.assertNothingSecretThrough(proxy)
        # the proxy is still used for what carries no credential
        self.assertIn(("GET", self.basic.url + "/v2/"),
                      [(r["method"], r["url"]) for r in proxy.requests()])
        sent = [r["headers"].get("Authorization", "") for r in self.basic.requests()]
        self.assertTrue(any(v.startswith("Basic ") for v in sent), "the registry got no Basic")

    def test_a_token_realm_on_loopback_gets_the_password_directly(self):
        proxy = self.proxy()
        code, report, err = self.run_with_password(self.bearer, {"http_proxy": proxy.url})
        self.assertStatus(report, "credentials", "pass", err)
        self.assertNothingSecretThrough(proxy)
        self.assertTrue(proxy.requests(), "the proxy saw nothing at all")

    def test_no_proxy_is_honoured(self):
        proxy = self.proxy()
        code, report, err = self.doctor_json(
            ["run", "--registry", self.basic.url, "--check", "check.integration.oci.registry"],
            env={"http_proxy": proxy.url, "no_proxy": "127.0.0.1"})
        self.assertStatus(report, "registry", ("pass", "warn"), err)
        self.assertEqual(proxy.requests(), [])
        code, report, err = self.doctor_json(
            ["run", "--registry", self.basic.url, "--check", "check.integration.oci.registry"],
            env={"http_proxy": proxy.url})
        self.assertEqual(len(proxy.requests()), 1, proxy.requests())

    def test_an_unreachable_proxy_is_named_as_the_proxy(self):
        dead = "http://127.0.0.1:%d" % h.free_port()
        for var, registry in (("http_proxy", self.basic.url),
                              ("HTTPS_PROXY", "https://127.0.0.1:%d" % h.free_port()),
                              ("ALL_PROXY", self.basic.url)):
            with self.subTest(var):
                code, report, err = self.doctor_json(
                    ["run", "--registry", registry, "--check", "check.integration.oci.registry"],
                    env={var: dead})
                self.assertStatus(report, "registry", "fail", err)
                message = h.result_of(report, "registry")["message"]
                self.assertIn("proxy %s (from %s)" % (dead, var), message)
                self.assertNotIn("nothing listens", message)
                self.assertEqual(h.result_of(report, "registry")["details"].get("cause"), "proxy")

    def test_proxy_passwords_are_not_repeated(self):
        dead = "http://bob:proxy-pw-9@127.0.0.1:%d" % h.free_port()
        code, report, err = self.doctor_json(
            ["run", "--registry", self.basic.url, "--check", "check.integration.oci.registry"],
            env={"http_proxy": dead})
        self.assertIn("(from http_proxy)", h.result_of(report, "registry")["message"])
        self.assertNoSecrets(["proxy-pw-9"], json.dumps(report), err)


if __name__ == "__main__":
    unittest.main()
