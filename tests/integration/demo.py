"""A quick look at ocidoctor for a person at a terminal.

Starts a plain HTTP docker-registry on loopback, seeds it with a small
library/alpine:latest image, and runs `ocidoctor run --registry URL` on it
with this process's own stdout and stderr, so that the text report shows
as a user would see it (in colour on a terminal). The registry is stopped
afterwards. Exits 0 when the doctor ran and gave a verdict (exit 0, 1 or
2), and with the doctor's own code (or 1) otherwise.

Usage: python3 tests/integration/demo.py [extra ocidoctor run options]
The binary is $OCIDOCTOR_BIN, else build/ocidoctor.
"""

import os
import subprocess
import sys

import harness as h


def main(extra):
    binary = os.environ.get("OCIDOCTOR_BIN") or os.path.join(h.REPO_ROOT, "build", "ocidoctor")
    if not os.access(binary, os.X_OK):
        print("demo: no ocidoctor binary at %s (build it first)" % binary, file=sys.stderr)
        return 1
    with h.Registry(seed=[("library/alpine", "latest")]) as registry:
        print("demo: registry with library/alpine:latest at %s\n" % registry.url, flush=True)
        code = subprocess.call([binary, "run", "--registry", registry.url] + extra)
    print("\ndemo: ocidoctor exited with %d" % code)
    return 0 if code in (h.EXIT_OK, h.EXIT_WARN, h.EXIT_FAIL) else (code or 1)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
