"""Checks of deploy/ against the Kubernetes schemas and against the code it deploys.

Each check takes a `Repo` (a checkout: the real one, or a broken copy in the
self-tests) and returns a list of problems, empty when all is well. `CHECKS` lists them;
test_deploy.py runs each one on the real tree and proves each can fail on broken copies.

What ties deploy/ to the code, so that neither drifts alone:
- spin.toml and spin-worker.toml: one SpinApp each (the API, HTTP triggers only; the
  worker, Redis triggers only, so a Redis restart never ends an API pod); each binds every
  variable its manifest requires, nothing it does not declare, and secret ones from a
  Secret only; a variable both manifests declare is declared alike;
- sidecar/src: the sidecar Deployment sets only environment variables the binary reads,
  and its shutdown budget follows the close timeout in sidecar/src/config.rs;
- tools/migrate/src: the Job runs a real subcommand with the variable rh-migrate reads;
- deploy/monitoring (check_monitoring.py): alerts and panels read only series the code
  exports, each alert has a section in docs/operations.md, promtool passes;
- docs/deploy.md: every Secret key a manifest references and no overlay ships is one
  that the document's `kubectl create secret` commands create.
"""

from __future__ import annotations

from pathlib import Path

from check_code import (
    check_migrate,
    check_references,
    check_sidecar,
    check_spinapp,
    check_trusted_proxies,
    check_variables,
)
from check_monitoring import check_monitoring
from check_manifests import (
    check_dockerfiles,
    check_images,
    check_render,
    check_schemas,
    check_workloads,
    check_yaml_parses,
)
from repo import Repo

__all__ = ["CHECKS", "Repo", "check_repo"]

CHECKS = [
    check_yaml_parses,
    check_render,
    check_schemas,
    check_spinapp,
    check_variables,
    check_trusted_proxies,
    check_references,
    check_workloads,
    check_sidecar,
    check_migrate,
    check_images,
    check_dockerfiles,
    check_monitoring,
]


def check_repo(root: Path) -> list[str]:
    repo = Repo(root)
    errors = []
    for check in CHECKS:
        try:
            errors += [f"{check.__name__}: {e}" for e in check(repo)]
        except Exception as e:  # a check that crashes on a broken tree still reports it
            errors.append(f"{check.__name__}: crashed on this tree: {type(e).__name__}: {e}")
    return errors
