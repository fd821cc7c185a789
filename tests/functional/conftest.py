# Licensed under the Apache License, Version 2.0 (the "License"); you may
# not use this file except in compliance with the License. You may obtain
# a copy of the License at
#
#      http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS, WITHOUT
# WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied. See the
# License for the specific language governing permissions and limitations
# under the License.
"""Fixtures of the functional tests: real libvirtd, QEMU and a guest.

Everything a fixture starts or creates is stopped or removed by its
finalizer, also when a test fails: the daemons it started itself (never
ones that were already running), the test bridge, the domains, the
iperf3 clients and the run directory.  A daemon or guest that cannot
start fails the test with the reason; nothing is skipped.

Environment:
  NOVA_MQ_GUEST_DIR      the guest cache (tools/guest/build-initramfs.sh)
  NOVA_MQ_VIRT_TYPE      force 'kvm' or 'qemu' (default: detected)
  NOVA_MQ_VIF_TYPE       force the ports' VIF type, 'bridge' or 'tap'
                         (default: 'bridge' where Nova still has it)
  NOVA_MQ_BOOT_TIMEOUT   seconds a guest may take to report (default 180)
  NOVA_MQ_KEEP_DAEMONS   1: leave daemons this run started running
"""

import os
import pathlib
import shutil
import signal
import subprocess
import tempfile
import time

from lxml import etree
import pytest

import guestlib

REPO = pathlib.Path(__file__).resolve().parents[2]
BUILD_SCRIPT = REPO / 'tools' / 'guest' / 'build-initramfs.sh'
GUEST_DIR = os.environ.get('NOVA_MQ_GUEST_DIR', '/var/tmp/nova-mq-guest')
BOOT_TIMEOUT = float(os.environ.get('NOVA_MQ_BOOT_TIMEOUT', '180'))
QEMU_URI = 'qemu:///system'

#: (program, its socket, its pid file), in start order.
DAEMONS = (
    ('virtlogd', '/run/libvirt/virtlogd-sock', '/run/virtlogd.pid'),
    ('libvirtd', '/run/libvirt/libvirt-sock', '/run/libvirtd.pid'),
)


def pytest_configure(config):
    """A CI timeout's SIGTERM tears down like Ctrl-C: the finalizers run
    (domains destroyed, bridge removed, daemons stopped)."""
    def interrupt(signum, frame):
        raise KeyboardInterrupt('SIGTERM')

    signal.signal(signal.SIGTERM, interrupt)


def _libvirt():
    try:
        import libvirt
    except ImportError as exc:
        pytest.fail('the libvirt Python binding is missing (%s): Debian '
                    'python3-libvirt for /usr/bin/python3, or libvirt-python '
                    'from PyPI (built against libvirt-dev) in a virtualenv'
                    % exc, pytrace=False)
    # libvirt prints every error to stderr by default; the tests report
    # the ones that matter.
    libvirt.registerErrorHandler(lambda ctx, err: None, None)
    return libvirt


@pytest.fixture(scope='session')
def guest_image():
    """The guest kernel and initramfs (built or taken from the cache)."""
    proc = subprocess.run([str(BUILD_SCRIPT)], stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True,
                          env=dict(os.environ, NOVA_MQ_GUEST_DIR=GUEST_DIR))
    if proc.returncode != 0:
        pytest.fail('%s failed (%d):\n%s' % (BUILD_SCRIPT, proc.returncode,
                                             proc.stdout[-4000:]),
                    pytrace=False)
    env = {}
    for line in proc.stdout.splitlines():
        key, sep, value = line.partition('=')
        if sep and key.startswith('NMQ_GUEST_'):
            env[key] = value.strip('"')
    for key in ('NMQ_GUEST_KERNEL', 'NMQ_GUEST_INITRD'):
        if not os.path.isfile(env.get(key, '')):
            pytest.fail('the guest build gave no %s:\n%s' % (key, proc.stdout),
                        pytrace=False)
    print('\nguest: kernel %s, modules %s\n       packages %s' % (
        env.get('NMQ_GUEST_KVER'), env.get('NMQ_GUEST_MODULES'),
        env.get('NMQ_GUEST_PACKAGES')))
    return env


def _start_daemon(program, sock, pidfile, logdir):
    """Start one daemon pinned to CPU 0; its PID, or fail with why."""
    cmd = [program, '-d']
    if shutil.which('taskset'):
        # libvirtd re-probes QEMU on about half of its restarts when it
        # runs on CPUs with different CPUID; one CPU avoids it.
        cmd = ['taskset', '-c', '0'] + cmd
    env = dict(os.environ)
    log = os.path.join(logdir, '%s.log' % program)
    # Warnings and errors, to a file: a daemon that dies says why.
    env['LIBVIRT_LOG_OUTPUTS'] = '3:file:%s' % log
    proc = subprocess.run(cmd, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, env=env)
    # "-d" returns once the daemon is up (0) or has failed (not 0).
    wait = 60 if proc.returncode == 0 else 3
    if not guestlib.wait_for(lambda: guestlib.socket_alive(sock), wait):
        detail = proc.stdout.strip()
        if os.path.exists(log):
            with open(log) as f:
                detail += '\n' + f.read()[-3000:]
        pytest.fail('%s did not start (exit %d, no socket %s): %s' % (
            ' '.join(cmd), proc.returncode, sock, detail or 'no output'),
            pytrace=False)
    if proc.returncode != 0:
        # Another run started it first (ours lost the pid file lock).
        return None
    try:
        with open(pidfile) as f:
            pid = int(f.read().strip())
    except (OSError, ValueError):
        pid = None
    if pid is None or not guestlib.pid_alive(pid, program):
        return None
    return pid


def _stop_autostarted_networks(links_before):
    """Networks a libvirtd we started brought up by itself (autostart, such
    as 'default' with virbr0 and dnsmasq) outlive it: stop them."""
    libvirt = _libvirt()
    try:
        connection = libvirt.open(QEMU_URI)
    except libvirt.libvirtError:
        return
    try:
        for net in connection.listAllNetworks(
                libvirt.VIR_CONNECT_LIST_NETWORKS_ACTIVE):
            try:
                bridge_name = net.bridgeName()
            except libvirt.libvirtError:
                continue
            if bridge_name not in links_before:
                print('\nstopping network %s (%s), autostarted by the '
                      'libvirtd this run started' % (net.name(), bridge_name))
                net.destroy()
    finally:
        connection.close()


def _stop_daemon(program, pid):
    if not guestlib.pid_alive(pid, program):
        return
    os.kill(pid, signal.SIGTERM)
    if not guestlib.wait_for(lambda: not guestlib.pid_alive(pid, program),
                             30):
        os.kill(pid, signal.SIGKILL)
        guestlib.wait_for(lambda: not guestlib.pid_alive(pid, program), 10)


@pytest.fixture(scope='session')
def run_dir():
    """Serial logs and daemon logs of this run (QEMU-readable)."""
    path = tempfile.mkdtemp(prefix='nova-mq-functional.', dir='/var/tmp')
    os.chmod(path, 0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope='session')
def libvirt_daemons(request, run_dir):
    """virtlogd and libvirtd: started (pinned to CPU 0) if not running."""
    if os.geteuid() != 0:
        pytest.fail('the functional tests need root (libvirtd, bridges)',
                    pytrace=False)
    for program, _, _ in DAEMONS:
        if shutil.which(program) is None:
            pytest.fail('%s is not installed (libvirt-daemon-system)'
                        % program, pytrace=False)
    started = []
    links_before = set(os.listdir('/sys/class/net'))

    def stop():
        if os.environ.get('NOVA_MQ_KEEP_DAEMONS') == '1':
            return
        if 'libvirtd' in [program for program, _ in started]:
            _stop_autostarted_networks(links_before)
        for program, pid in reversed(started):
            _stop_daemon(program, pid)

    request.addfinalizer(stop)
    for program, sock, pidfile in DAEMONS:
        if guestlib.socket_alive(sock):
            print('\n%s: already running, left as it is' % program)
            continue
        pid = _start_daemon(program, sock, pidfile, run_dir)
        if pid is not None:
            started.append((program, pid))
            print('\n%s: started (pid %d), stopped at the end' % (
                program, pid))
    return [program for program, _ in started]


@pytest.fixture(scope='session')
def conn(libvirt_daemons):
    """A connection to qemu:///system, QEMU's capabilities probed."""
    libvirt = _libvirt()
    start = time.monotonic()
    try:
        connection = libvirt.open(QEMU_URI)
        connection.getCapabilities()
    except libvirt.libvirtError as exc:
        pytest.fail('cannot use %s: %s' % (QEMU_URI, exc), pytrace=False)
    print('\nlibvirt %s, QEMU %s (first call %.1f s)' % (
        _version(connection.getLibVersion()),
        _version(connection.getVersion()), time.monotonic() - start))
    yield connection
    connection.close()


def _version(number):
    return '%d.%d.%d' % (number // 1000000, number // 1000 % 1000,
                         number % 1000)


def detect_virt_type(connection):
    """('kvm' or 'qemu', why): KVM only where it really is hardware KVM.

    /dev/kvm alone proves nothing (here it is kvm_pvm, which stock guest
    kernels do not boot under); hardware KVM is kvm_intel or kvm_amd.
    """
    forced = os.environ.get('NOVA_MQ_VIRT_TYPE')
    if forced:
        return forced, 'NOVA_MQ_VIRT_TYPE=%s' % forced
    if not os.access('/dev/kvm', os.R_OK | os.W_OK):
        return 'qemu', 'no usable /dev/kvm'
    hardware = [m for m in ('kvm_intel', 'kvm_amd')
                if os.path.isdir('/sys/module/%s' % m)]
    if not hardware:
        others = sorted(m for m in os.listdir('/sys/module')
                        if m.startswith('kvm'))
        return 'qemu', ('/dev/kvm is not hardware KVM (modules: %s)'
                        % (', '.join(others) or 'none'))
    libvirt = _libvirt()
    try:
        connection.getDomainCapabilities(None, 'x86_64', None, 'kvm', 0)
    except libvirt.libvirtError as exc:
        return 'qemu', 'libvirt offers no kvm domains: %s' % exc
    return 'kvm', 'hardware KVM (%s)' % hardware[0]


@pytest.fixture(scope='session')
def virt_type(conn):
    kind, why = detect_virt_type(conn)
    print('\nguests run as <domain type=%r>: %s; their ports are Nova VIFs '
          'of type %r' % (kind, why, guestlib.vif_type()))
    return kind


class Bridge(object):
    """A Linux bridge with a private /24; the host is .1."""

    def __init__(self):
        self.name = 'nmqbr%s' % guestlib.SESSION_TAG
        self._pick_network()
        self.created = False

    def create(self):
        guestlib.run(['ip', 'link', 'add', self.name, 'type', 'bridge'])
        self.created = True
        for attempt in range(10):
            guestlib.run(['ip', 'addr', 'add', '%s/%d' % (
                self.host_ip, self.network.prefixlen), 'dev', self.name])
            if guestlib.host_ipv4_networks().count(self.network) == 1:
                break
            # Another run took the same /24 at the same time: move on.
            guestlib.run(['ip', 'addr', 'flush', 'dev', self.name])
            self._pick_network()
        else:
            raise RuntimeError('no private /24 stayed free')
        guestlib.run(['ip', 'link', 'set', self.name, 'up'])

    def _pick_network(self):
        self.network = guestlib.free_test_subnet()
        hosts = list(self.network.hosts())
        self.host_ip = str(hosts[0])
        self._guest_ips = iter(hosts[9:])

    def next_guest_ip(self):
        return str(next(self._guest_ips))

    def remove(self):
        if self.created:
            guestlib.run(['ip', 'link', 'del', self.name], check=False)
            self.created = False


@pytest.fixture(scope='session')
def bridge(request, libvirt_daemons):
    br = Bridge()
    request.addfinalizer(br.remove)
    try:
        br.create()
    except (RuntimeError, OSError) as exc:
        pytest.fail('cannot create the test bridge %s: %s' % (br.name, exc),
                    pytrace=False)
    print('\ntest bridge %s, host %s/%d' % (br.name, br.host_ip,
                                            br.network.prefixlen))
    return br


class Boot(object):
    """One guest run: what was planned and what the guest reported."""

    def __init__(self, name, vcpus, planned, report, seconds, iperf=None):
        self.name = name
        self.vcpus = vcpus
        self.planned = planned
        self.report = report
        self.seconds = seconds
        self.iperf = iperf


class GuestRunner(object):
    """Boots guests from planned interfaces; destroys what it started."""

    def __init__(self, conn, image, bridge, virt_type, run_dir):
        self.libvirt = _libvirt()
        self.conn = conn
        self.image = image
        self.bridge = bridge
        self.virt_type = virt_type
        self.run_dir = run_dir
        self.domains = []
        self.processes = []
        self.taps = []

    # -- cleanup -------------------------------------------------------
    def cleanup(self):
        for proc in self.processes:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        for name in self.domains:
            self.destroy(name)
        self.domains = []
        for tap in self.taps:
            if os.path.exists('/sys/class/net/%s' % tap):
                guestlib.run(['ip', 'link', 'del', tap], check=False)
        self.taps = []

    def destroy(self, name):
        try:
            dom = self.conn.lookupByName(name)
        except self.libvirt.libvirtError:
            return
        try:
            if dom.isActive():
                dom.destroy()
            if dom.isPersistent():
                dom.undefine()
        except self.libvirt.libvirtError:
            pass

    # -- domains -------------------------------------------------------
    def xml(self, name, vcpus, interfaces, cmdline, memory_mib=256):
        serial = os.path.join(self.run_dir, '%s.serial.log' % name)
        return serial, guestlib.domain_xml(
            name, self.virt_type, vcpus, self.image['NMQ_GUEST_KERNEL'],
            self.image['NMQ_GUEST_INITRD'], cmdline, interfaces, serial,
            memory_mib)

    def create(self, name, xml, paused=False, planned=None):
        """Start a transient domain; returns it or raises libvirtError.

        planned: the Planned its interfaces come from; for 'tap' VIFs the
        taps are plugged first and put on the test bridge.
        """
        flags = self.libvirt.VIR_DOMAIN_START_PAUSED if paused else 0
        if planned is not None:
            self.plug(planned)
        self.domains.append(name)
        dom = self.conn.createXML(xml, flags)
        if planned is not None:
            self.attach(planned)
        return dom

    def plug(self, planned):
        """What Nova's plug_tap does before the domain starts, for NICs
        whose tap is not libvirt's (managed='no'): the tap, multi_queue
        exactly when the XML asks for more than one queue, on the bridge."""
        if planned.vif_type != 'tap':
            return
        for spec, xml in zip(planned.nics, planned.xml):
            target = etree.fromstring(xml).find('target')
            if target is None or target.get('managed') != 'no':
                continue
            if os.path.exists('/sys/class/net/%s' % spec.tap):
                continue
            cmd = ['ip', 'tuntap', 'add', 'dev', spec.tap, 'mode', 'tap']
            if (guestlib.interface_queues(xml) or 1) > 1:
                cmd.append('multi_queue')
            guestlib.run(cmd)
            self.taps.append(spec.tap)
            guestlib.run(['ip', 'link', 'set', spec.tap, 'master',
                          self.bridge.name, 'up'])

    def attach(self, planned):
        """Taps libvirt made for ethernet NICs go on the test bridge."""
        if planned.vif_type != 'tap':
            return
        for spec in planned.nics:
            path = '/sys/class/net/%s' % spec.tap
            if os.path.exists(path) and not os.path.exists(path + '/master'):
                guestlib.run(['ip', 'link', 'set', spec.tap, 'master',
                              self.bridge.name, 'up'], check=False)

    def boot(self, label, vcpus, planned, traffic=False,
             timeout=BOOT_TIMEOUT):
        """Boot a guest with the planned interfaces; wait for its report.

        traffic: the first NIC gets an address on the test bridge, the
        guest serves one iperf3 test, and the host runs a bounded
        8-stream client against it (no throughput is asserted).
        """
        name = guestlib.guest_name(label)
        ip = iperf = None
        if traffic:
            guest_ip = self.bridge.next_guest_ip()
            ip = (planned.nics[0].mac, '%s/%d' % (
                guest_ip, self.bridge.network.prefixlen))
            # The guest gives up serving first: its report then still
            # comes, with the iperf3 error.
            iperf = (5201, int(min(90, timeout / 2)))
        cmdline = guestlib.guest_cmdline(len(planned.xml), ip, iperf)
        serial, xml = self.xml(name, vcpus, planned.xml, cmdline)
        start = time.monotonic()
        try:
            dom = self.create(name, xml, planned=planned)
        except self.libvirt.libvirtError as exc:
            pytest.fail('guest %s did not start: %s\n%s' % (name, exc, xml),
                        pytrace=False)
        iperf_result = None
        deadline = start + timeout
        while True:
            if not self._running(dom):
                break
            if traffic and iperf_result is None and _has_line(
                    serial, 'NMQ ready '):
                iperf_result = self._iperf(guest_ip)
            if time.monotonic() > deadline:
                self.destroy(name)
                pytest.fail('guest %s did not power off within %d s.\n%s'
                            % (name, timeout, _diagnosis(name, serial)),
                            pytrace=False)
            time.sleep(0.25)
        seconds = time.monotonic() - start
        report = guestlib.Report(_read(serial))
        boot = Boot(name, vcpus, planned, report, seconds, iperf_result)
        print_boot(boot, self.virt_type)
        if not report.ended:
            pytest.fail('guest %s stopped without finishing its report.\n%s'
                        % (name, _diagnosis(name, serial)), pytrace=False)
        return boot

    def _running(self, dom):
        try:
            return bool(dom.isActive())
        except self.libvirt.libvirtError:
            # A transient domain that powered off is gone.
            return False

    def _iperf(self, guest_ip):
        """A bounded iperf3 client: 8 TCP streams for 3 s, host -> guest."""
        cmd = ['iperf3', '--client', guest_ip, '--bind', self.bridge.host_ip,
               '--port', '5201', '--parallel', '8', '--time', '3',
               '--connect-timeout', '10000']
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)
        self.processes.append(proc)
        try:
            out, _ = proc.communicate(timeout=90)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, _ = proc.communicate()
            return (None, 'iperf3 client timed out\n' + out)
        return (proc.returncode, out)


def _read(path):
    try:
        with open(path, 'rb') as f:
            return f.read().decode('utf-8', 'replace')
    except OSError:
        return ''


def _diagnosis(name, serial):
    """The end of a guest's console and of libvirt's QEMU log for it."""
    console = guestlib.Report(_read(serial)).tail()
    qemu_log = '\n'.join(_read('/var/log/libvirt/qemu/%s.log' % name)
                         .splitlines()[-15:])
    return 'Console (%s):\n%s\nQEMU log:\n%s' % (
        serial, console or '(empty: nothing reached the serial port)',
        qemu_log or '(empty)')


def _has_line(path, prefix):
    return any(line.startswith(prefix) for line in _read(path).splitlines())


def print_boot(boot, virt_type):
    """The guest's own report, then a table against the plan."""
    print('\n=== guest %s: <domain type=%r>, %d vCPUs, %d NICs, reported in '
          '%.1f s' % (boot.name, virt_type, boot.vcpus, len(boot.planned.xml),
                      boot.seconds))
    for line in boot.report.lines:
        print('    ' + line)
    if boot.planned.plan is not None:
        print('    %-6s %-17s %5s %7s %7s %10s %8s %6s' % (
            'nic', 'mac', 'plan', 'rx/tx', 'max/cur', 'irq lines', 'msix',
            'engine'))
        for spec, nic_plan in zip(boot.planned.nics, boot.planned.plan.nics):
            seen = boot.report.nic(spec.mac) or {}
            print('    %-6s %-17s %5d %7s %7s %10s %8s %6d' % (
                seen.get('name', '?'), spec.mac,
                guestlib.planned_queues(nic_plan),
                '%s/%s' % (seen.get('rx_queues'), seen.get('tx_queues')),
                '%s/%s' % (seen.get('max_combined'), seen.get('cur_combined')),
                seen.get('irq_lines'), seen.get('msix_table'),
                nic_plan.msi_vectors))
    if boot.iperf is not None:
        rc, out = boot.iperf
        summary = [line for line in out.splitlines() if '[SUM]' in line]
        print('    host iperf3 client: rc=%s %s' % (
            rc, ' | '.join(s.strip() for s in summary) or out[-500:]))


@pytest.fixture
def guests(request, conn, guest_image, bridge, virt_type, run_dir):
    runner = GuestRunner(conn, guest_image, bridge, virt_type, run_dir)
    request.addfinalizer(runner.cleanup)
    return runner


@pytest.fixture(scope='module')
def module_guests(request, conn, guest_image, bridge, virt_type, run_dir):
    runner = GuestRunner(conn, guest_image, bridge, virt_type, run_dir)
    request.addfinalizer(runner.cleanup)
    return runner


@pytest.fixture(scope='session')
def test_conn():
    """libvirt's test driver (test:///default), in this process."""
    libvirt = _libvirt()
    connection = libvirt.open('test:///default')
    yield connection
    connection.close()
