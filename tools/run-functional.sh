#!/usr/bin/env bash
# nova-mq's functional tests: real libvirtd, real QEMU, a real guest kernel.
#
#   tools/run-functional.sh [pytest arguments...]
#
# Runs as root (CI does).  Installs nothing: it checks that the tools and
# Python modules the tests need are there (and names the Debian package of
# each missing one), builds the guest or takes it from its cache
# (tools/guest/build-initramfs.sh), and runs tests/functional with each
# guest's own queue report on the output.  The tests start libvirtd and
# virtlogd themselves if they are not running, and stop what they started.
#
# Environment:
#   PYTHON                 the interpreter with nova, nova_mq (installed,
#                          with its compiled engine), libvirt, pytest
#                          (default: python3)
#   NOVA_MQ_GUEST_DIR      the guest cache (default /var/tmp/nova-mq-guest)
#   NOVA_MQ_VIRT_TYPE      force the domain type: kvm or qemu (default:
#                          kvm only on hardware KVM, else qemu/TCG)
#   NOVA_MQ_VIF_TYPE       the ports' Nova VIF type: bridge or tap
#                          (default: bridge, tap where Nova dropped it)
#   NOVA_MQ_BOOT_TIMEOUT   seconds a guest may take to report (default 180)
#   NOVA_MQ_KEEP_DAEMONS   1: leave daemons the tests started running
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
# Never import the source tree's nova_mq: the installed one has the engine.
export PYTHONSAFEPATH=1

fail() {
    echo "run-functional: $*" >&2
    exit 1
}

[ "$(id -u)" -eq 0 ] || fail "must run as root (libvirtd, bridges, taps)"

missing=()
need() {
    command -v "$1" >/dev/null 2>&1 || missing+=("$1 (Debian: $2)")
}
need libvirtd libvirt-daemon-system
need virtlogd libvirt-daemon-system
need virsh libvirt-clients
need virt-xml-validate libvirt-clients
need xmllint libxml2-utils
need qemu-system-x86_64 qemu-system-x86
need iperf3 iperf3
need ip iproute2
need taskset util-linux
need flock util-linux
need apt-get apt
need apt-cache apt
need dpkg-deb dpkg
need gzip gzip
need "$PY" python3
[ -c /dev/net/tun ] || missing+=("/dev/net/tun (the tun kernel module)")
getent passwd libvirt-qemu >/dev/null ||
    missing+=("user libvirt-qemu (Debian: libvirt-daemon-system)")

if command -v "$PY" >/dev/null 2>&1; then
    py_missing=$("$PY" - <<'EOF'
import importlib
import warnings

warnings.simplefilter('ignore')
WANT = [
    ('libvirt', 'python3-libvirt, or libvirt-python from PyPI (built '
                'against libvirt-dev)'),
    ('lxml', 'python3-lxml'),
    ('pytest', 'python3-pytest'),
    ('nova', 'python3-nova, or nova from PyPI'),
    ('os_vif', 'python3-os-vif (a dependency of nova)'),
    ('nova_mq._engine', 'nova-mq installed with its engine (pip install .)'),
    ('nova_mq.vif', 'nova-mq installed (pip install .)'),
]
for name, hint in WANT:
    try:
        importlib.import_module(name)
    except Exception as exc:  # noqa: BLE001 - report any import failure
        print('python module %s (%s): %s' % (name, hint, exc))
EOF
) || py_missing="python: cannot run $PY"
    while IFS= read -r line; do
        [ -n "$line" ] && missing+=("$line")
    done <<<"$py_missing"
fi

if [ ${#missing[@]} -gt 0 ]; then
    echo "run-functional: missing prerequisites (tools/install-deps.sh" \
        "functional installs the packages):" >&2
    printf '  - %s\n' "${missing[@]}" >&2
    exit 1
fi

"$PY" - <<'EOF'
import warnings
warnings.simplefilter('ignore')
from importlib import metadata
import libvirt
import nova_mq
try:
    binding = 'libvirt-python %s' % metadata.version('libvirt-python')
except metadata.PackageNotFoundError:
    binding = 'python3-libvirt'
print('run-functional: nova %s, nova-mq %s (%s), %s on libvirt %s' % (
    metadata.version('nova'), nova_mq.__version__, nova_mq.__file__,
    binding, '.'.join(str(libvirt.getVersion() // 1000 ** i % 1000)
                      for i in (2, 1, 0))))
EOF

tools/guest/build-initramfs.sh

cd tests
exec "$PY" -m pytest -p no:cacheprovider -v -s functional "$@"
