#!/usr/bin/env bash
# The README's test command: installs what the tests need beyond cargo, then runs every test.
# - Ray, pinned, in a virtual environment inside the clone (.venv/, ignored by git), for the
#   `rwfc run` end-to-end tests against a real local Ray;
# - Debian's Go packages, when ../shared/tools/argo-expr is there to build Argo's own
#   expression evaluator for the Argo target's differential tests.
set -euo pipefail
cd "$(dirname "$0")/.."
RAY_VERSION=2.60.0
if ! .venv/bin/python -c "import ray, sys; sys.exit(ray.__version__ != '$RAY_VERSION')" 2>/dev/null; then
  echo "installing ray[default]==$RAY_VERSION into .venv/ …" >&2
  python3 -m venv .venv
  .venv/bin/pip install --quiet --disable-pip-version-check "ray[default]==$RAY_VERSION"
fi
if [ -d ../shared/tools/argo-expr ] && ! command -v go >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
  (apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q golang-go \
    golang-github-masterminds-sprig-dev golang-github-antonmedv-expr-dev golang-gopkg-yaml.v2-dev) >&2
fi
RWFC_REQUIRE_RAY=1 cargo test --locked "$@"
