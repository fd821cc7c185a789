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
"""``nova-mq audit``: which guests' NICs are misconfigured.

Domain XML comes from libvirt (a read-only connection through
libvirt-python) or from files, directories and standard input, and is read
by the engine's C reader (``nova_mq.parse_domain``: no network, no
entities, a size limit), never by lxml.  ``check_domain`` turns one parsed
domain into its rows and findings; it is all the audit does per domain
(tools/bench.py measures it).  A source that cannot be read is reported on
standard error, one line, and the audit goes on.
"""

import os
import re
import sys

from nova_mq.cli import common

COLUMNS = ('Domain', 'UUID', 'vCPUs', 'MAC', 'Model', 'Driver', 'Queues',
           'MSI vectors', 'Findings')

#: Every finding code; NOTICES do not make the exit status 1.
FINDINGS = ('queues-above-vcpus', 'queues-above-tap-limit',
            'msi-budget-exceeded', 'queues-on-non-virtio',
            'queues-without-vhost', 'differs-from-plan',
            'single-queue-on-multi-vcpu')
NOTICES = frozenset(['single-queue-on-multi-vcpu'])

#: Interface types without a host tap device: the tap cap does not apply.
_NO_TAP = frozenset(['vhostuser', 'hostdev', 'vdpa'])
_VIRTIO = 'virtio'
_UUID_RE = re.compile(
    r'^[0-9a-fA-F]{8}-?([0-9a-fA-F]{4}-?){3}[0-9a-fA-F]{12}$')

EPILOG = """\
Sources: FILE, a DIRECTORY (its *.xml files) or - (standard input); with
none, every domain of the libvirt connection (--connect, default
[libvirt]connection_uri, else qemu:///system), or those named by --domain.
Each is read with the engine's reader; one that cannot be read (missing,
malformed, too large, an entity declaration, not a domain) is reported on
standard error as "nova-mq audit: error: SOURCE: why" and the others are
audited.

Findings (one row per interface; a domain without interfaces gets one row):
  queues-above-vcpus          more queues than the domain's vCPUs
  queues-above-tap-limit      more queues than this host's tap queue cap
  msi-budget-exceeded         the domain's NICs use more MSI-X vectors than
                              msi_vector_budget - reserved_msi_vectors
  queues-on-non-virtio        a queues attribute on a model not virtio
  queues-without-vhost        several queues on driver qemu (no vhost-net)
  single-queue-on-multi-vcpu  (notice) a virtio NIC with one queue on a
                              guest with 2 or more vCPUs
Exit status: 2 if a source could not be read, else 1 if any finding but a
notice, else 0.

Examples:
  nova-mq audit                             # every domain of this host
  nova-mq audit --domain instance-0000002a -f json
  nova-mq audit /etc/libvirt/qemu -c Domain -c MAC -c Findings
"""


class HostLimits(object):
    """What a domain is checked against: the tap cap, the NICs' budget."""

    def __init__(self, tap_cap, msi_budget, msi_vectors):
        self.tap_cap = tap_cap          # None: unknown (no check)
        self.msi_budget = msi_budget    # budget minus reserved vectors
        self.msi_vectors = msi_vectors  # queues -> vectors (the engine's)


def host_limits(kernel_release=None):
    """This host's limits from nova.conf (and the overrides), the engine's
    rules: ``driver.host_tap_queue_cap`` and ``_engine.msi_vectors``."""
    from nova_mq import _engine
    cfg = common.conf()
    max_queues = cfg.libvirt.max_queues
    if max_queues:
        cap = _engine.tap_queue_cap(max_queues, '')[0]
    else:
        try:
            cap = _engine.tap_queue_cap(
                0, kernel_release or os.uname().release)[0]
        except ValueError:
            cap = None
    budget = (cfg.nova_mq.msi_vector_budget -
              cfg.nova_mq.reserved_msi_vectors)
    return HostLimits(cap, budget, _engine.msi_vectors)


def _iface_findings(iface, vcpus, limits):
    """An interface's findings and its MSI vectors."""
    findings = []
    queues = iface['queues']
    model = iface['model']
    virtio = model == _VIRTIO
    if queues is not None:
        if queues > vcpus:
            findings.append('queues-above-vcpus')
        if (limits.tap_cap is not None and queues > limits.tap_cap and
                iface['type'] not in _NO_TAP):
            findings.append('queues-above-tap-limit')
        if not virtio:
            findings.append('queues-on-non-virtio')
        if queues > 1 and iface['driver'] == 'qemu':
            findings.append('queues-without-vhost')
    if virtio and (queues or 1) == 1 and vcpus >= 2:
        findings.append('single-queue-on-multi-vcpu')
    vectors = limits.msi_vectors(queues or 1) if virtio else 0
    return findings, vectors


def check_domain(domain, limits, uuid=None):
    """A parsed domain's rows (lists in COLUMNS order, Findings a list)."""
    vcpus = domain['vcpus']
    name = domain['name']
    uuid = domain.get('uuid', uuid)
    rows = []
    total = 0
    for iface in domain['interfaces']:
        findings, vectors = _iface_findings(iface, vcpus, limits)
        total += vectors
        queues = iface['queues'] or (1 if iface['model'] else None)
        rows.append([name, uuid, vcpus, iface['mac'], iface['model'],
                     iface['driver'], queues, vectors, findings])
    if total > limits.msi_budget:
        for row in rows:
            row[8].insert(0, 'msi-budget-exceeded')
    if not rows:
        rows.append([name, uuid, vcpus, None, None, None, None, 0, []])
    return rows


def is_problem(rows):
    """Whether rows have a finding other than a notice."""
    return any(code not in NOTICES for row in rows for code in row[8])


# Sources.

def _read_limited(f):
    """At most one byte past the reader's limit (it refuses the rest)."""
    from nova_mq import _engine
    return f.read(_engine.MAX_XML_BYTES + 1)


def file_sources(paths, stdin=None):
    """(label, xml bytes or an exception, uuid) per file to audit."""
    for path in paths:
        if path == '-':
            stream = stdin or sys.stdin.buffer
            yield '-', _read_limited(stream), None
            continue
        if os.path.isdir(path):
            try:
                names = sorted(n for n in os.listdir(path)
                               if n.endswith('.xml'))
            except OSError as exc:
                yield path, exc, None
                continue
            for name in names:
                full = os.path.join(path, name)
                if os.path.isfile(full):
                    yield full, _read_file(full), None
            continue
        yield path, _read_file(path), None


def _read_file(path):
    try:
        with open(path, 'rb') as f:
            return _read_limited(f)
    except OSError as exc:
        return exc


def libvirt_sources(uri, names):
    """(label, xml or an exception, uuid) per domain of the connection."""
    import libvirt
    # libvirt prints every error by default; they are reported here.
    libvirt.registerErrorHandler(lambda _ctx, _err: None, None)
    try:
        conn = libvirt.openReadOnly(uri)
    except libvirt.libvirtError as exc:
        yield '--connect %s' % uri, exc, None
        return
    try:
        if names:
            domains = []
            for name in names:
                try:
                    domains.append(
                        conn.lookupByUUIDString(name) if _UUID_RE.match(name)
                        else conn.lookupByName(name))
                except libvirt.libvirtError as exc:
                    yield '--domain %s' % name, exc, None
        else:
            domains = sorted(conn.listAllDomains(0),
                             key=lambda dom: dom.name())
        for dom in domains:
            try:
                yield dom.name(), dom.XMLDesc(0), dom.UUIDString()
            except libvirt.libvirtError as exc:
                yield dom.name(), exc, None
    finally:
        conn.close()


def default_uri():
    """[libvirt]connection_uri, else qemu:///system."""
    return common.conf().libvirt.connection_uri or 'qemu:///system'


class Audit(common.Lister):
    """Which guests are misconfigured: one row per interface, findings.

    Reads each domain's XML (from libvirt, read-only, or from files) with
    nova-mq's C reader and checks every interface's queues against the
    domain's vCPUs, this host's tap queue cap, the MSI-X budget, the model
    and the driver.
    """

    _epilog = EPILOG

    def get_parser(self, prog_name):
        parser = super(Audit, self).get_parser(prog_name)
        parser.add_argument(
            'sources', nargs='*', metavar='SOURCE',
            help='a domain XML file, a directory of *.xml files, or - for '
            'standard input (default: the libvirt connection)')
        parser.add_argument(
            '--connect', metavar='URI',
            help='libvirt URI, opened read-only (default: [libvirt]'
            'connection_uri, else qemu:///system)')
        parser.add_argument(
            '--domain', action='append', metavar='NAME|UUID', default=[],
            help='audit only this domain of the connection (repeatable)')
        common.add_host_options(parser, names=(
            '--max-queues', '--msi-vector-budget', '--reserved-msi-vectors'))
        return parser

    def run(self, parsed_args):
        self.status = 0
        result = super(Audit, self).run(parsed_args)
        return result or self.status

    def _sources(self, parsed_args):
        if parsed_args.sources:
            yield from file_sources(parsed_args.sources,
                                    getattr(self.app.stdin, 'buffer', None))
        if (not parsed_args.sources or parsed_args.connect or
                parsed_args.domain):
            yield from libvirt_sources(parsed_args.connect or default_uri(),
                                       parsed_args.domain)

    def take_action(self, parsed_args):
        import nova_mq
        common.apply_host_options(parsed_args, self.conf_overrides)
        limits = host_limits(parsed_args.kernel_release)
        rows = []
        failed = problem = False
        for label, xml, uuid in self._sources(parsed_args):
            if not isinstance(xml, Exception):
                try:
                    domain_rows = check_domain(nova_mq.parse_domain(xml),
                                               limits, uuid)
                except nova_mq.exception.NovaMQInvalid as exc:
                    xml = exc
            if isinstance(xml, Exception):
                failed = True
                self.app.stderr.write('nova-mq audit: error: %s: %s\n'
                                      % (label, common.one_line(xml)))
                continue
            problem = problem or is_problem(domain_rows)
            rows.extend(domain_rows)
        self.status = 2 if failed else 1 if problem else 0
        for row in rows:
            row[8] = common.ListColumn(row[8])
        return COLUMNS, rows
