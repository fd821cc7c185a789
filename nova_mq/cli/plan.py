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
"""``nova-mq plan``: what a guest would get on this host.

The guest is built from Nova's own objects (``objects.Flavor`` with the
extra specs, ``objects.ImageMeta.from_dict`` with the image properties,
``nova.network.model.VIF`` per ``--nic``) and each NIC goes through
``MultiqueueVIFDriver.get_config`` inside ``guest_context``, as
nova-compute's libvirt driver calls it: Nova's validation and conflicts
apply, and ``--xml`` is Nova's ``to_xml()`` of the config nova-compute
would write.  The rows come from the same driver's ``plan_guest``.
"""

import argparse

from nova_mq.cli import common

COLUMNS = ('NIC', 'VIF type', 'Model', 'Driver', 'Queues', 'MSI vectors',
           'vhost memory (KiB)', 'Reasons')
XML_COLUMN = 'XML'
#: The NIC column of the guest's totals row, always the last row.
GUEST_ROW = 'guest'

UUID = '00000000-0000-4000-8000-00000000a001'

#: The keys of --nic that are not the port's binding profile.
NIC_KEYS = ('type', 'vnic_type', 'model', 'mac')
#: Binding profile keys nova-mq reads begin with this.
PROFILE_PREFIX = 'mq_'

#: A sample port of each VIF type, as Neutron binds one: the vNIC type
#: when --nic gives none, details, binding profile, device name prefix,
#: bridge.  Other types get the last entry; Nova decides what it makes
#: of them.
_PORTS = {
    'ovs': ('normal', {'port_filter': True, 'ovs_hybrid_plug': False}, {},
            'tap', 'br-int'),
    'bridge': ('normal', {'port_filter': True}, {}, 'tap', 'brq-mq'),
    'vhostuser': ('normal', {'vhostuser_mode': 'server',
                             'vhostuser_ovs_plug': True,
                             'vhostuser_socket':
                             '/var/run/openvswitch/vhu%(id)s'}, {},
                  'vhu', 'br-int'),
    'tap': ('normal', {}, {}, 'tap', None),
    'hw_veb': ('direct', {'vlan': '100'},
               {'pci_slot': '0000:3b:02.%(index)d',
                'pci_vendor_info': '8086:154c'}, None, None),
    'hostdev_physical': ('direct-physical', {'vlan': '100'},
                         {'pci_slot': '0000:3b:00.%(index)d',
                          'pci_vendor_info': '8086:1572'}, None, None),
    'macvtap': ('macvtap', {'macvtap_source': 'eth0',
                            'macvtap_mode': 'passthrough',
                            'physical_interface': 'eth0'}, {}, None, None),
    None: ('normal', {}, {}, 'tap', None),
}

EPILOG = """\
The last row is always the guest's totals: NIC "guest", Queues the sum of
the NICs' queues, MSI vectors the NICs' total (the table shows "used of
budget"), vhost memory the total, and Reasons "msi-budget=N" (the budget
for the NICs: msi_vector_budget minus reserved_msi_vectors) followed by
the guest's warnings.  With -f json or yaml the output is one list of
objects keyed by the column names, the totals object last; --sort-column
sorts the NIC rows only.

--nic takes comma-separated KEY=VALUE: type (the port's binding:vif_type:
ovs, bridge, vhostuser, tap, hw_veb, hostdev_physical, macvtap, ...),
vnic_type (normal, direct, ...), model (the guest's NIC model: Nova gives
every NIC the image's hw_vif_model, so all NICs must agree), mac, and any
binding profile key beginning with mq_ (mq_queues, mq_throughput).

Examples:
  nova-mq plan --vcpus 16 --flavor-property mq:throughput=medium \\
      --nic type=ovs,mq_queues=4 --nic type=vhostuser --nic type=hw_veb
  nova-mq plan --vcpus 8 --nic type=ovs --xml -f value -c XML
"""


class _Total(common.ListColumn):
    """MSI vectors of the totals row: "used of budget" in a table."""

    def human_readable(self):
        used, budget = self._value
        return '%d of %d' % (used, budget)

    def machine_readable(self):
        return self._value[0]


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError('invalid integer: %r' % text)
    if value < 1:
        raise argparse.ArgumentTypeError('must be at least 1: %r' % text)
    return value


def parse_nic(text, index):
    """One --nic as (vif_type, vnic_type, model, mac, profile)."""
    fields = common.key_values('--nic', text.split(',') if text else ())
    profile = {}
    for key in list(fields):
        if key.startswith(PROFILE_PREFIX):
            profile[key] = fields.pop(key)
        elif key not in NIC_KEYS:
            raise common.UserError(
                '--nic', text, 'unknown key %r (known: %s and the binding '
                'profile\'s %s* keys)' % (key, ', '.join(NIC_KEYS),
                                          PROFILE_PREFIX))
    if not fields.get('type'):
        raise common.UserError('--nic', text, 'type= is required (the '
                               'port\'s binding:vif_type, e.g. ovs)')
    return (fields['type'], fields.get('vnic_type'), fields.get('model'),
            fields.get('mac') or 'fa:16:3e:00:00:%02x' % (index % 256),
            profile)


def make_vif(index, nic):
    """A network model VIF as Neutron would bind the port."""
    from nova.network import model as network_model
    vif_type, vnic_type, _model, mac, profile = nic
    default_vnic, details, base_profile, prefix, bridge = _PORTS.get(
        vif_type, _PORTS[None])
    port_id = '0a1b2c3d-4e5f-4a6b-8c7d-%012d' % index
    subs = {'id': port_id[:11], 'index': index}
    network = network_model.Network(
        id='5e6f7a8b-9c0d-4e1f-8a2b-%012d' % index, bridge=bridge,
        label='net%d' % index, subnets=[], meta={'mtu': 1450})
    return network_model.VIF(
        id=port_id, address=mac, network=network, type=vif_type,
        vnic_type=vnic_type or default_vnic,
        details={k: v % subs if isinstance(v, str) else v
                 for k, v in details.items()},
        devname=prefix and (prefix + port_id[:11]),
        ovs_interfaceid=port_id,
        profile=dict({k: v % subs for k, v in base_profile.items()},
                     **profile))


def make_image(properties, nics):
    """Nova's ImageMeta; the NICs' model= is the image's hw_vif_model."""
    from nova import objects
    props = dict(properties)
    models = {nic[2] for nic in nics if nic[2]}
    if len(models) > 1:
        raise common.UserError(
            '--nic', 'model=%s' % ','.join(sorted(models)),
            'Nova gives every NIC of a guest one model, the image\'s '
            'hw_vif_model')
    if models:
        model = models.pop()
        if props.setdefault('hw_vif_model', model) != model:
            raise common.UserError(
                '--nic', 'model=%s' % model, 'differs from --image-property '
                'hw_vif_model=%s' % props['hw_vif_model'])
    for key, value in props.items():
        option, text = '--image-property', '%s=%s' % (key, value)
        if key == 'hw_vif_model' and key not in properties:
            option, text = '--nic', 'model=%s' % value
        try:
            one = objects.ImageMetaProps.from_dict({key: value})
        except ValueError as exc:
            raise common.UserError(option, text, common.one_line(exc))
        if not one.obj_what_changed():
            raise common.UserError(option, key,
                                   'not an image property Nova knows')
    return objects.ImageMeta.from_dict({'name': 'nova-mq-plan',
                                        'properties': props})


def make_flavor(vcpus, extra_specs):
    """Nova's Flavor; each extra spec checked as nova-api checks it."""
    from nova.api.validation.extra_specs import validators
    from nova import exception as nova_exception
    from nova import objects
    for key, value in extra_specs.items():
        try:
            validators.validate(key, value)
        except nova_exception.ValidationError as exc:
            raise common.UserError('--flavor-property', '%s=%s' % (key, value),
                                   common.one_line(exc))
    return objects.Flavor(name='nova-mq-plan', vcpus=vcpus, memory_mb=4096,
                          extra_specs=dict(extra_specs))


def plan_guest(vcpus, flavor_props, image_props, nic_texts, virt_type,
               kernel_release=None):
    """Each NIC's config and the guest's plan, as nova-compute makes them.

    Returns (vifs, configs, GuestPlan).
    """
    import os_vif
    from nova import objects
    from nova_mq import vif as mq_vif
    objects.register_all()
    os_vif.initialize()
    nics = [parse_nic(text, i) for i, text in enumerate(nic_texts)]
    flavor = make_flavor(vcpus, flavor_props)
    image = make_image(image_props, nics)
    instance = objects.Instance(uuid=UUID, flavor=flavor)
    vifs = [make_vif(i, nic) for i, nic in enumerate(nics)]
    driver = mq_vif.MultiqueueVIFDriver()
    with mq_vif.guest_context(network_info=vifs,
                              kernel_release=kernel_release):
        configs = [_get_config(driver, instance, v, image, flavor, virt_type,
                               text) for v, text in zip(vifs, nic_texts)]
        plan = driver.plan_guest(instance, vifs[0], image, flavor,
                                 virt_type)[0]
    return vifs, configs, plan


def _get_config(driver, instance, vif, image, flavor, virt_type, nic_text):
    """The vif driver's config; Nova's error for this NIC names its --nic
    (a flavor/image conflict names the flavor's and the image's keys)."""
    from nova import exception as nova_exception
    try:
        return driver.get_config(instance, vif, image, flavor, virt_type)
    except nova_exception.FlavorImageConflict:
        raise
    except nova_exception.NovaException as exc:
        raise common.UserError('--nic', nic_text, common.one_line(exc))


def nic_row(index, vif, conf, nic):
    """A NIC's row: what the config writes, the plan's figures."""
    queues = conf.vhost_queues or (1 if conf.model else None)
    return [str(index), vif['type'], conf.model, conf.driver_name, queues,
            nic.msi_vectors, nic.vhost_memory // 1024, list(nic.reasons)]


def guest_row(plan, rows):
    return [GUEST_ROW, None, None, None,
            sum(r[4] or 0 for r in rows),
            _Total((plan.msi_vectors, plan.msi_budget)),
            plan.vhost_memory // 1024,
            common.ListColumn(['msi-budget=%d' % plan.msi_budget] +
                              list(plan.warnings))]


class Plan(common.Lister):
    """What a guest would get on this host: each NIC's queues and why.

    Nova's objects (the flavor with its extra specs, the image, one
    network VIF per --nic) go through nova-mq's vif driver as nova-compute
    calls it, with nova.conf's [libvirt] and [nova_mq] values (overridden
    by the host options).  One row per NIC, then the guest's totals.
    """

    _epilog = EPILOG

    def get_parser(self, prog_name):
        parser = super(Plan, self).get_parser(prog_name)
        parser.add_argument('--vcpus', type=_positive_int, required=True,
                            metavar='N', help='the flavor\'s vCPUs')
        parser.add_argument(
            '--flavor-property', action='append', metavar='KEY=VALUE',
            default=[], help='a flavor extra spec (repeatable), checked as '
            'nova-api checks it: mq:throughput, mq:max_queues, '
            'mq:msi_vector_budget, hw:vif_multiqueue_enabled, ...')
        parser.add_argument(
            '--image-property', action='append', metavar='KEY=VALUE',
            default=[], help='an image property (repeatable): '
            'hw_vif_multiqueue_enabled, hw_vif_model, ...')
        parser.add_argument(
            '--nic', action='append', metavar='KEY=VALUE[,...]',
            required=True, help='a port, in guest order (repeatable): '
            'type=ovs|bridge|vhostuser|tap|hw_veb|...,vnic_type=...,'
            'model=...,mq_queues=N,mq_throughput=low|medium|high')
        parser.add_argument(
            '--xml', action='store_true',
            help='add an XML column: each NIC\'s <interface> as '
            'nova-compute writes it (Nova\'s to_xml())')
        common.add_host_options(parser)
        return parser

    @property
    def need_sort_by_cliff(self):
        # Sorted here, so that the totals row stays last.
        return False

    def take_action(self, parsed_args):
        common.apply_host_options(parsed_args, self.conf_overrides)
        cfg = common.conf()
        vifs, configs, plan = plan_guest(
            parsed_args.vcpus,
            common.key_values('--flavor-property',
                              parsed_args.flavor_property),
            common.key_values('--image-property', parsed_args.image_property),
            parsed_args.nic, cfg.libvirt.virt_type,
            parsed_args.kernel_release)
        rows = [nic_row(i, v, c, n) for i, (v, c, n)
                in enumerate(zip(vifs, configs, plan.nics))]
        columns = COLUMNS
        if parsed_args.xml:
            columns += (XML_COLUMN,)
            for row, conf in zip(rows, configs):
                row.append(conf.to_xml().rstrip('\n'))
        rows = common.sort_rows(rows, parsed_args, columns)
        for row in rows:
            row[7] = common.ListColumn(row[7])
        total = guest_row(plan, rows)
        if parsed_args.xml:
            total.append(None)
        return columns, rows + [total]
