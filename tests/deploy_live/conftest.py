"""`make test-deploy` only: these tests build images and run the whole Compose file with podman,
minutes of work that `make test` must not start. They are collected when PACTRA_TEST_DEPLOY=1
(the Makefile target sets it); otherwise this folder holds nothing to collect."""

import os

if os.environ.get("PACTRA_TEST_DEPLOY") != "1":
    collect_ignore_glob = ["test_*.py"]
