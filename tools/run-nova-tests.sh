#!/bin/bash
# Run Nova's own unit tests for the code nova-mq replaces, with nova-mq's
# driver in place of Nova's (tests/nova_suite/run.py; see its README.md),
# for the Python this script is started with: $PYTHON if set, else the
# `python` on PATH (a tox env's).
#
#   tools/run-nova-tests.sh [--stock] [--nova-sdist nova-X.tar.gz] [test ...]
#
# Anything missing (Nova, its test files, a test dependency, nova-mq's
# compiled engine) is an error, never a skip.  When a test fails with
# nova-mq in place, the same tests are run against stock Nova too, so the
# log says whether the failure is nova-mq's.
set -eu -o pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
python=${PYTHON:-python}

die() {
    echo "run-nova-tests: ERROR: $*" >&2
    exit 1
}

command -v "$python" >/dev/null 2>&1 || die "no Python '$python' on PATH"

# Outside the source tree, so the installed nova_mq (with its engine) is the
# one tested, not the sources.
cd "${TMPDIR:-/tmp}"

"$python" - <<'EOF' || die "a component is missing (above); nothing was run"
import importlib
import sys

# What Nova's tests import (Nova's test-requirements.txt; Debian:
# python3-<name>), and nova-mq itself.
NEEDED = [
    ('nova', 'Nova (PyPI nova, or Debian python3-nova)'),
    ('nova_mq._engine', 'nova-mq, installed with its compiled engine'),
    ('testtools', 'testtools'),
    ('fixtures', 'fixtures'),
    ('oslotest', 'oslotest'),
    ('ddt', 'ddt'),
    ('testscenarios', 'testscenarios'),
    ('testresources', 'testresources'),
    ('wsgi_intercept', 'wsgi-intercept'),
]
missing = []
for module, what in NEEDED:
    try:
        importlib.import_module(module)
    except Exception as e:
        missing.append('  %s: cannot import %s: %s' % (what, module, e))
if missing:
    sys.stderr.write('run-nova-tests: missing with %s:\n%s\n' % (
        sys.executable, '\n'.join(missing)))
    sys.exit(1)
EOF

stock=false
case " $* " in *" --stock "*) stock=true ;; esac

status=0
"$python" "$here/tests/nova_suite/run.py" "$@" || status=$?
if [ "$status" -ne 0 ]; then
    if ! $stock; then
        echo
        echo "run-nova-tests: nova-mq's run failed; the same tests" \
             "against stock Nova:"
        if "$python" "$here/tests/nova_suite/run.py" --stock "$@"; then
            echo "run-nova-tests: stock Nova passes: the failure is" \
                 "nova-mq's."
        else
            echo "run-nova-tests: stock Nova fails too."
        fi
    fi
    exit "$status"
fi
