"""localstripe (the fake Stripe server from PyPI) for the tests: on loopback only, and
from scratch with its state in memory only.

``localstripe --from-scratch`` skips loading its state file, but still rewrites
``/tmp/localstripe.pickle`` (shared by every instance on the machine) on each change
and listens on every interface; this runs the same app without either.

Usage: python -m tests.localstripe_server PORT
"""

from __future__ import annotations

import sys

from aiohttp import web
from localstripe import resources  # type: ignore[import-untyped]
from localstripe.server import app  # type: ignore[import-untyped]


def main(port: int) -> None:
    resources.Store.dump_to_disk = lambda self: None
    web.run_app(app, host="127.0.0.1", port=port, print=None)


if __name__ == "__main__":
    main(int(sys.argv[1]))
