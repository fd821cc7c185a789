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
"""The functional tests' toolbox (not a test module).

- ``plan_interfaces``: a guest's ``<interface>`` elements as Nova's libvirt
  driver writes them with nova-mq switched on (``MultiqueueVIFDriver``),
  or with stock Nova (``LibvirtGenericVIFDriver``), from real Nova objects.
- ``domain_xml``: a small direct-kernel-boot ``<domain>`` around them.
- ``parse_report``: the guest's ``NMQ ...`` lines (tools/guest/init).
- host helpers: the test bridge, daemons, iperf3.
"""

import collections
import ipaddress
import os
import random
import socket
import subprocess
import time
import uuid

from lxml import etree

#: Tap and bridge names carry one random tag per test session, so that
#: runs on a shared host never collide (names are at most 15 characters).
SESSION_TAG = '%05x' % random.getrandbits(20)
_counter = {'nic': 0, 'mac': 0, 'guest': 0}


def _next(kind):
    _counter[kind] += 1
    return _counter[kind]


def tap_name():
    name = 'nmq%s%03d' % (SESSION_TAG, _next('nic') % 1000)
    assert len(name) <= 15
    return name


def mac_address():
    n = _next('mac')
    return 'fa:16:3e:%02x:%02x:%02x' % (
        int(SESSION_TAG[:2], 16), (n >> 8) & 0xff, n & 0xff)


def guest_name(label):
    return 'nmq-%s-%02d-%s' % (SESSION_TAG, _next('guest'), label)


# -- Nova's side ------------------------------------------------------------

_NOVA_READY = []


def _nova():
    """Nova's and os-vif's object registries, once."""
    if not _NOVA_READY:
        import os_vif.objects
        from nova import objects
        objects.register_all()
        os_vif.objects.register_all()
        _NOVA_READY.append(True)


class NicSpec(object):
    """One port of a test guest: its binding profile and names."""

    def __init__(self, profile=None, label=None):
        self.profile = dict(profile or {})
        self.label = label
        self.mac = mac_address()
        self.tap = tap_name()

    def __repr__(self):
        return 'NicSpec(%s, %s, %r)' % (self.mac, self.tap, self.profile)


#: plan: nova-mq's GuestPlan (None for stock Nova); nics: the NicSpecs;
#: xml: one <interface> per NIC; vif_type: 'bridge' or 'tap'.
Planned = collections.namedtuple('Planned', 'plan nics xml vif_type')

_VIF_TYPE = []


def vif_type():
    """The VIF type the test guests' ports have: 'bridge' (a Linux bridge
    port: libvirt creates the tap and adds it to the bridge), or 'tap'
    where the installed Nova no longer supports Linux bridge VIFs (newer
    than 2025.1): Nova then writes an ethernet interface with
    managed='no', the tap is made beforehand as Nova's plug_tap would
    (multi_queue exactly when the XML has queues > 1) and put on the
    test bridge.  NOVA_MQ_VIF_TYPE forces one."""
    if not _VIF_TYPE:
        forced = os.environ.get('NOVA_MQ_VIF_TYPE')
        if forced:
            _VIF_TYPE.append(forced)
        else:
            from nova import exception as nova_exception
            try:
                plan_interfaces(2, {}, [NicSpec()], 'nmqprobe', stock=True,
                                _vif_type='bridge')
                _VIF_TYPE.append('bridge')
            except nova_exception.NovaException as exc:
                if 'no longer supported' not in str(exc):
                    raise
                _VIF_TYPE.append('tap')
    return _VIF_TYPE[0]


def _objects(vcpus, extra_specs, image_properties, bridge, nics,
             kind='bridge'):
    from nova.network import model as network_model
    from nova import objects
    _nova()
    flavor = objects.Flavor(
        name='nmq.%dvcpu' % vcpus, flavorid='nmq-%d' % vcpus, vcpus=vcpus,
        memory_mb=256, root_gb=0, ephemeral_gb=0, swap=0,
        extra_specs=dict(extra_specs or {}))
    instance = objects.Instance(
        uuid=str(uuid.uuid4()), flavor=flavor, vcpus=vcpus, memory_mb=256,
        project_id='nova-mq', user_id='nova-mq')
    image_meta = objects.ImageMeta.from_dict(
        {'name': 'nmq-guest', 'properties': dict(image_properties or {})})
    network = network_model.Network(
        id=str(uuid.uuid4()), bridge=bridge if kind == 'bridge' else None,
        label='nova-mq-test', subnets=[])
    types = {'bridge': network_model.VIF_TYPE_BRIDGE,
             'tap': network_model.VIF_TYPE_TAP}
    vifs = network_model.NetworkInfo([
        network_model.VIF(
            id=str(uuid.uuid4()), address=nic.mac, network=network,
            type=types[kind], devname=nic.tap,
            vnic_type=network_model.VNIC_TYPE_NORMAL, profile=nic.profile,
            details={}, active=True)
        for nic in nics])
    return flavor, instance, image_meta, vifs


def plan_interfaces(vcpus, extra_specs, nics, bridge, image_properties=None,
                    stock=False, virt_type='kvm', _vif_type=None):
    """The guest's <interface> XML as Nova's libvirt driver writes it.

    Real Nova objects (Flavor, Instance, ImageMeta, network model VIFs of
    vif_type 'bridge' on ``bridge``, or 'tap': see vif_type()) go through
    nova-mq's
    ``MultiqueueVIFDriver.get_config`` inside ``guest_context`` with all
    of the guest's VIFs, as ``MultiqueueLibvirtDriver._get_guest_config``
    does; ``stock=True`` uses Nova's own ``LibvirtGenericVIFDriver``.
    virt_type is the host Nova plans for: 'kvm' (nova-mq, like Nova, only
    turns multiqueue on for kvm); the tests may then run the domain under
    TCG.
    """
    kind = _vif_type or vif_type()
    flavor, instance, image_meta, vifs = _objects(
        vcpus, extra_specs, image_properties, bridge, nics, kind)
    if stock:
        from nova.virt.libvirt import vif as nova_vif
        driver = nova_vif.LibvirtGenericVIFDriver()
        xml = [driver.get_config(instance, vif, image_meta, flavor,
                                 virt_type).to_xml() for vif in vifs]
        return Planned(None, nics, xml, kind)
    from nova_mq import vif as mq_vif
    driver = mq_vif.MultiqueueVIFDriver()
    with mq_vif.guest_context(network_info=vifs):
        xml = [driver.get_config(instance, vif, image_meta, flavor,
                                 virt_type).to_xml() for vif in vifs]
        plan, _ = driver.plan_guest(instance, vifs[0], image_meta, flavor,
                                    virt_type)
    return Planned(plan, nics, xml, kind)


def interface_queues(xml):
    """The queues attribute of an <interface>'s <driver>, or None."""
    driver = etree.fromstring(xml).find('driver')
    value = driver.get('queues') if driver is not None else None
    return int(value) if value is not None else None


def planned_queues(nic_plan):
    """Queue pairs the guest must see for a NicPlan (None means one)."""
    return nic_plan.queues or 1


# -- the domain -------------------------------------------------------------

def domain_xml(name, virt_type, vcpus, kernel, initrd, cmdline, interfaces,
               serial_path, memory_mib=256):
    """A direct-kernel-boot guest: serial console to a file, ACPI (for the
    power-off and all CPUs), no disks, no USB, no balloon."""
    dom = etree.Element('domain', type=virt_type)
    etree.SubElement(dom, 'name').text = name
    etree.SubElement(dom, 'uuid').text = str(uuid.uuid4())
    etree.SubElement(dom, 'memory', unit='MiB').text = str(memory_mib)
    etree.SubElement(dom, 'vcpu').text = str(vcpus)
    os_ = etree.SubElement(dom, 'os')
    etree.SubElement(os_, 'type', arch='x86_64').text = 'hvm'
    etree.SubElement(os_, 'kernel').text = kernel
    etree.SubElement(os_, 'initrd').text = initrd
    etree.SubElement(os_, 'cmdline').text = cmdline
    features = etree.SubElement(dom, 'features')
    etree.SubElement(features, 'acpi')
    etree.SubElement(features, 'apic')
    etree.SubElement(dom, 'clock', offset='utc')
    for event in ('on_poweroff', 'on_reboot', 'on_crash'):
        # A panic (panic=-1 reboots) or a reboot ends the run at once.
        etree.SubElement(dom, event).text = 'destroy'
    devices = etree.SubElement(dom, 'devices')
    for xml in interfaces:
        devices.append(etree.fromstring(xml))
    serial = etree.SubElement(devices, 'serial', type='file')
    etree.SubElement(serial, 'source', path=serial_path)
    etree.SubElement(serial, 'target', port='0')
    etree.SubElement(devices, 'controller', type='usb', model='none')
    etree.SubElement(devices, 'memballoon', model='none')
    return etree.tostring(dom, pretty_print=True, encoding='unicode')


def guest_cmdline(nics, ip=None, iperf=None):
    """The kernel command line tools/guest/init reads."""
    words = ['console=ttyS0', 'panic=-1', 'loglevel=3',
             'nmq.nics=%d' % nics]
    if ip is not None:
        words.append('nmq.ip=%s@%s' % ip)
    if iperf is not None:
        words.append('nmq.iperf=%d,%d' % iperf)
    return ' '.join(words)


# -- the guest's report -----------------------------------------------------

class Report(object):
    """The NMQ lines of one boot, by kind; numbers as ints."""

    def __init__(self, text):
        self.text = text
        self.lines = []
        self.records = []
        for raw in text.splitlines():
            line = raw.strip('\r\x00 ')
            if not line.startswith('NMQ '):
                continue
            self.lines.append(line)
            words = line.split()
            fields = {}
            for word in words[2:]:
                key, sep, value = word.partition('=')
                if sep:
                    fields[key] = int(value) if value.isdigit() else value
            self.records.append((words[1], fields))

    def all(self, kind):
        return [f for k, f in self.records if k == kind]

    def one(self, kind):
        found = self.all(kind)
        return found[0] if found else None

    @property
    def ended(self):
        return self.one('end') is not None

    def nic(self, mac):
        for fields in self.all('nic'):
            if fields.get('mac') == mac:
                return fields
        return None

    def setch(self, name):
        return [f for f in self.all('setch') if f.get('name') == name]

    def queues(self, name):
        return [f for f in self.all('queue') if f.get('name') == name]

    def tail(self, lines=40):
        return '\n'.join(self.text.splitlines()[-lines:])


# -- the host ---------------------------------------------------------------

def run(cmd, check=True, timeout=60):
    """Run a host command; failures carry its output."""
    proc = subprocess.run(cmd, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True,
                          timeout=timeout)
    if check and proc.returncode != 0:
        raise RuntimeError('%s failed (%d): %s' % (
            ' '.join(cmd), proc.returncode, proc.stdout.strip()))
    return proc


def socket_alive(path):
    """True when a daemon accepts connections on the unix socket."""
    if not os.path.exists(path):
        return False
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(2)
    try:
        sock.connect(path)
        return True
    except OSError:
        return False
    finally:
        sock.close()


def pid_alive(pid, comm):
    """True while process pid runs the program comm (zombies are dead)."""
    try:
        with open('/proc/%d/stat' % pid) as f:
            stat = f.read()
    except OSError:
        return False
    name = stat[stat.find('(') + 1:stat.rfind(')')]
    state = stat[stat.rfind(')') + 2:stat.rfind(')') + 3]
    return name == comm and state not in ('Z', 'X', '')


def wait_for(predicate, timeout, interval=0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


def host_ipv4_networks():
    out = run(['ip', '-4', '-o', 'addr', 'show']).stdout
    nets = []
    for line in out.splitlines():
        words = line.split()
        if 'inet' in words:
            nets.append(ipaddress.ip_interface(
                words[words.index('inet') + 1]).network)
    return nets


def free_test_subnet():
    """A /24 of 198.18.0.0/15 (RFC 2544, benchmarking) unused here."""
    used = host_ipv4_networks()
    candidates = list(range(256))
    random.shuffle(candidates)
    for third in candidates:
        net = ipaddress.ip_network('198.18.%d.0/24' % third)
        if not any(net.overlaps(other) for other in used):
            return net
    raise RuntimeError('no free /24 in 198.18.0.0/16 for the test bridge')


def qemu_pid(domain_name):
    """The PID of the QEMU process of a running domain (by name)."""
    path = '/run/libvirt/qemu/%s.pid' % domain_name
    with open(path) as f:
        return int(f.read().strip())


def tap_queue_fds(pid, tap):
    """How many of the process's open files are queues of that tap."""
    count = 0
    fdinfo = '/proc/%d/fdinfo' % pid
    for fd in os.listdir(fdinfo):
        try:
            with open(os.path.join(fdinfo, fd)) as f:
                if ('iff:\t%s\n' % tap) in f.read():
                    count += 1
        except OSError:
            pass
    return count


# -- what the guest must show -----------------------------------------------

def msix_table_size(queues):
    """MSI-X table entries of a virtio-net-pci device with that many queue
    pairs: libvirt sets vectors = 2N+2 for N > 1, and QEMU's default for
    one pair is 2*1 + 1 (config) + 1 (control queue) = 4."""
    return 2 * queues + 2


def nic_problems(boot):
    """Every way the guest's report differs from the plan (empty: none).

    Per NIC with N planned queue pairs on V vCPUs: the driver's maximum
    is N and it starts with min(N, V) pairs (rx-*/tx-* in sysfs, ethtool
    -l current); the guest has one MSI-X interrupt per queue plus one for
    config, 2N+1 lines in /proc/interrupts (the control queue has none);
    the device's MSI-X table has 2N+2 entries; ``ethtool -L combined 1``
    and back to N work and N+1 is refused.
    """
    report = boot.report
    problems = []
    begin = report.one('begin') or {}
    if begin.get('cpus') != boot.vcpus:
        problems.append('guest sees %s CPUs, the domain has %d' % (
            begin.get('cpus'), boot.vcpus))
    modules = report.one('modules') or {}
    if modules.get('failed') or not modules.get('loaded'):
        problems.append('virtio_net modules: %r' % modules)
    if len(report.all('nic')) != len(boot.planned.nics):
        problems.append('guest reports %d NICs, %d planned' % (
            len(report.all('nic')), len(boot.planned.nics)))
    for spec, nic_plan, xml in zip(boot.planned.nics, boot.planned.plan.nics,
                                   boot.planned.xml):
        if interface_queues(xml) != nic_plan.queues:
            problems.append('%s: the XML has queues=%s, the plan %s' % (
                spec.mac, interface_queues(xml), nic_plan.queues))
        seen = report.nic(spec.mac)
        if seen is None:
            problems.append('%s: not in the guest report' % spec.mac)
            continue
        name = seen['name']
        n = planned_queues(nic_plan)
        active = min(n, boot.vcpus)
        expect = {
            'max_combined': n, 'cur_combined': active,
            'rx_queues': active, 'tx_queues': active,
            'irq_input': n, 'irq_output': n, 'irq_config': 1,
            'irq_other': 0, 'irq_lines': 2 * n + 1, 'msi_irqs': 2 * n + 1,
            'msix_table': msix_table_size(n),
        }
        for key, want in expect.items():
            if seen.get(key) != want:
                problems.append('%s (%s): %s=%s, expected %s for %d queue '
                                'pairs on %d vCPUs' % (
                                    name, spec.mac, key, seen.get(key), want,
                                    n, boot.vcpus))
        if nic_plan.msi_vectors < seen.get('irq_lines', 0):
            problems.append('%s: the engine counts %d MSI vectors, the guest '
                            'uses %s' % (name, nic_plan.msi_vectors,
                                         seen.get('irq_lines')))
        steps = [(s.get('want'), s.get('rc'), s.get('cur'), s.get('rx_queues'))
                 for s in report.setch(name)]
        if n > 1:
            ok = (len(steps) == 3 and steps[0][1] == 0
                  and steps[0][2:] == (1, 1)
                  and steps[1][0] == n + 1 and steps[1][1] != 0
                  and steps[1][2] == 1
                  and steps[2][0] == n and steps[2][1] == 0
                  and steps[2][2:] == (n, n))
        else:
            ok = (len(steps) == 2 and steps[0][1:3] == (0, 1)
                  and steps[1][0] == 2 and steps[1][1] != 0
                  and steps[1][2] == 1)
        if not ok:
            problems.append('%s: ethtool -L (want, rc, current, rx queues): '
                            '%r' % (name, steps))
    return problems
