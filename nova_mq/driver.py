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
"""nova-mq's libvirt driver: Nova's LibvirtDriver with nova-mq's vif driver.

``MultiqueueLibvirtDriver`` is what nova-compute runs when ``[nova_mq]
enabled = true`` (see nova_mq.hook), and what a custom driver subclasses.
It changes only what the guest's NIC plan needs: the vif driver, and the
guest context (the guest's NICs, and the queues of NICs already running)
around the driver paths that ask the vif driver for interface configs or
plug VIFs:

* ``_get_guest_config`` and ``plug_vifs``: every NIC of the guest.
* ``attach_interface`` / ``detach_interface``: the running guest's NICs
  keep their queues (read from the live domain) and spend the MSI budget
  first; the new NIC gets what fits.
* Live migration: the destination XML keeps every running NIC's queues
  (``_live_migration_operation`` on the source, ``pre_live_migration`` on
  the destination, which plugs the taps), and a destination whose tap
  queue cap is below a running NIC's queues is refused in the pre-checks.

The pre-check's data travels in what Nova already passes between the two
hosts: each ``VIFMigrateData.source_vif`` (a network model VIF, sent over
RPC as JSON) carries ``source_vif['meta']['nova_mq']``.  The destination
(``check_can_live_migrate_destination``) writes its cap there, the source
(``check_can_live_migrate_source``) checks it against the running domain
and writes each NIC's running queues there, and the destination's
``pre_live_migration`` plugs with them.

An unexpected error in nova-mq on these paths is logged with its traceback
and Nova's own behaviour is used; it never fails an operation by itself.
"""

import copy
import os

from nova import exception as nova_exception
from nova.i18n import _
from nova.virt.libvirt import driver as nova_driver
from oslo_log import log as logging

import nova.conf
import nova_mq
from nova_mq import _engine
from nova_mq import nova_names
from nova_mq import vif as mq_vif

CONF = nova.conf.CONF
LOG = logging.getLogger(__name__)

#: The key of nova-mq's data in a migrating VIF's ``source_vif['meta']``.
MIGRATE_META_KEY = 'nova_mq'

#: vNIC type of a running interface that Nova's network info does not
#: know, by its domain interface type (only the MSI budget needs it).
_VNIC_BY_DOMAIN_TYPE = {'hostdev': 'direct', 'vdpa': 'vdpa',
                        'direct': 'macvtap'}


def host_tap_queue_cap(max_queues=None, kernel_release=None):
    """This host's tap queue cap and where it comes from, as the engine has it.

    The engine's rule (``_engine.tap_queue_cap``, the one plan() applies):
    ``[libvirt]max_queues`` when set, else by the kernel's major version,
    never above the tun driver's 256.  Returns ``(cap, origin)``, or
    ``(None, origin)`` for a kernel release without a version number.
    """
    if max_queues is None:
        max_queues = CONF.libvirt.max_queues
    if max_queues:
        origin = '[libvirt]max_queues = %d' % max_queues
    else:
        if kernel_release is None:
            kernel_release = os.uname().release
        origin = 'kernel %s' % kernel_release
    try:
        cap, _reason = _engine.tap_queue_cap(max_queues or 0,
                                             kernel_release or '')
    except nova_mq.exception.NovaMQInvalid:
        return None, origin
    return cap, origin


def running_interfaces(guest):
    """The domain's interfaces with a MAC, in domain order.

    Each is the engine's ``parse_domain`` dict, with ``queues`` set to 1
    where the domain has no ``queues`` attribute (a single-queue NIC).
    """
    domain = nova_mq.parse_domain(guest.get_xml_desc())
    ifaces = []
    for iface in domain['interfaces']:
        if iface.get('mac'):
            ifaces.append(dict(iface, queues=iface.get('queues') or 1))
    return ifaces


def _unknown_vif(iface):
    """A VIF stand-in for a running interface Nova's network info lacks.

    It only takes its place in the guest's MSI budget (its queues are
    fixed), so it needs no more than the engine reads.
    """
    return {'address': iface['mac'],
            'type': 'vhostuser' if iface['type'] == 'vhostuser' else None,
            'vnic_type': _VNIC_BY_DOMAIN_TYPE.get(iface['type'], 'normal'),
            'profile': {}}


def _fixed_guest(ifaces, vif_by_mac, extra=()):
    """guest_context kwargs: the running NICs, fixed, then ``extra``.

    ``vif_by_mac``: {lower-case MAC: VIF} of the VIFs Nova knows.
    """
    nics = []
    fixed = {}
    for iface in ifaces:
        vif = vif_by_mac.get(iface['mac'].lower()) or _unknown_vif(iface)
        nics.append(vif)
        fixed[vif['address']] = iface['queues']
    running = {iface['mac'].lower() for iface in ifaces}
    nics.extend(vif for vif in extra
                if (vif.get('address') or '').lower() not in running)
    return {'network_info': nics, 'fixed_queues': fixed}


def _migrate_meta(migrate_vif):
    """nova-mq's dict in a VIFMigrateData's source_vif meta, or {}."""
    if 'source_vif' not in migrate_vif or not migrate_vif.source_vif:
        return {}
    meta = migrate_vif.source_vif.get('meta') or {}
    return meta.get(MIGRATE_META_KEY) or {}


def _set_migrate_meta(migrate_vif, **values):
    """Add values to nova-mq's dict in the VIF's source_vif meta.

    The VIF is copied first: on the destination, source_vif is the
    instance's own network info entry, which must not change.
    """
    source_vif = copy.deepcopy(migrate_vif.source_vif)
    meta = dict(source_vif.get('meta') or {})
    meta[MIGRATE_META_KEY] = dict(meta.get(MIGRATE_META_KEY) or {},
                                  **values)
    source_vif['meta'] = meta
    migrate_vif.source_vif = source_vif


def _migrate_vifs(migrate_data):
    """The migrate data's VIFMigrateData objects that have a source VIF."""
    if 'vifs' not in migrate_data or not migrate_data.vifs:
        return []
    return [mv for mv in migrate_data.vifs
            if 'source_vif' in mv and mv.source_vif]


#: Nova's methods whose arguments the overrides read by name, as Nova
#: defines them (bound here, so that a mock of one cannot change the names).
_NOVA = {name: getattr(nova_driver.LibvirtDriver, name) for name in (
    'plug_vifs', 'attach_interface', 'detach_interface',
    'check_can_live_migrate_destination', 'check_can_live_migrate_source',
    '_live_migration_operation', 'pre_live_migration')}


class MultiqueueLibvirtDriver(nova_driver.LibvirtDriver):
    """LibvirtDriver whose guests' NICs are planned by nova-mq.

    Each override takes Nova's arguments as Nova passes them (``*args,
    **kwargs``), reads the ones it needs by Nova's parameter names
    (nova_names.bind_args) and calls Nova's method with them unchanged.
    """

    def __init__(self, *args, **kwargs):
        super(MultiqueueLibvirtDriver, self).__init__(*args, **kwargs)
        self.vif_driver = mq_vif.MultiqueueVIFDriver(self._host)

    def _get_guest_config(self, instance, network_info, *args, **kwargs):
        # Every NIC of this guest is planned once, against all of them.
        with mq_vif.guest_context(network_info=network_info):
            return super(MultiqueueLibvirtDriver, self)._get_guest_config(
                instance, network_info, *args, **kwargs)

    @staticmethod
    def _nova_mq_context(what, instance, build, *args):
        """build(*args), or None after logging an unexpected error."""
        try:
            return build(*args)
        except Exception:
            LOG.warning('nova-mq could not %s; Nova\'s own behaviour is '
                        'used.', what, instance=instance, exc_info=True)
            return None

    def _nova_call(self, name, what, context_of, args, kwargs):
        """Nova's method ``name``(*args, **kwargs), inside the guest context
        that ``context_of``({parameter: value}) builds (None: no context).

        An error in context_of is nova-mq's: logged as "nova-mq could not
        <what>" (``%(mac)s``: the VIF's MAC), and Nova's method runs as it
        would without nova-mq.
        """
        method = getattr(super(MultiqueueLibvirtDriver, self), name)
        values = nova_names.bind_args(_NOVA[name], args, kwargs)
        vif = values.get('vif') or {}
        guest = self._nova_mq_context(
            what % {'mac': vif.get('address')}, values.get('instance'),
            context_of, values)
        if guest is None:
            return method(*args, **kwargs)
        with mq_vif.guest_context(**guest):
            return method(*args, **kwargs)

    # Plugging: the taps Nova creates agree with the guest's plan.

    def plug_vifs(self, *args, **kwargs):
        if mq_vif._GUEST.get() is not None:
            # pre_live_migration's context, with the running queues.
            return super(MultiqueueLibvirtDriver, self).plug_vifs(
                *args, **kwargs)
        return self._nova_call(
            'plug_vifs', 'plan the guest\'s taps',
            lambda v: {'network_info': v['network_info']}, args, kwargs)

    # Hotplug.

    def _running_guest(self, instance, vif):
        """guest_context kwargs for hotplug: running NICs fixed, plus vif."""
        ifaces = running_interfaces(self._host.get_guest(instance))
        known = {v['address'].lower(): v
                 for v in instance.get_network_info() if v.get('address')}
        if vif.get('address'):
            known[vif['address'].lower()] = vif
        kwargs = _fixed_guest(ifaces, known, [vif])
        LOG.debug('nova-mq: hotplug of %(mac)s plans against the running '
                  'NICs %(fixed)s', {'mac': vif.get('address'),
                                     'fixed': kwargs['fixed_queues']},
                  instance=instance)
        return kwargs

    def _hotplug_guest(self, values):
        return self._running_guest(values['instance'], values['vif'])

    def attach_interface(self, *args, **kwargs):
        return self._nova_call(
            'attach_interface',
            'read the running guest\'s NICs for attaching %(mac)s',
            self._hotplug_guest, args, kwargs)

    def detach_interface(self, *args, **kwargs):
        return self._nova_call(
            'detach_interface',
            'read the running guest\'s NICs for detaching %(mac)s',
            self._hotplug_guest, args, kwargs)

    # Live migration: the destination's tap cap, checked on the source.

    def _offer_tap_cap(self, instance, migrate_data):
        """Destination: put this host's tap queue cap in the migrate data."""
        migrate_vifs = _migrate_vifs(migrate_data)
        if not migrate_vifs:
            LOG.debug('nova-mq: no migrating VIFs (no port binding '
                      'workflow); the tap queue cap is not sent.',
                      instance=instance)
            return
        cap, origin = host_tap_queue_cap()
        for migrate_vif in migrate_vifs:
            _set_migrate_meta(migrate_vif, dest_host=CONF.host,
                              dest_tap_queue_cap=cap,
                              dest_tap_queue_cap_from=origin)

    def check_can_live_migrate_destination(self, *args, **kwargs):
        data = super(MultiqueueLibvirtDriver,
                     self).check_can_live_migrate_destination(*args, **kwargs)
        values = nova_names.bind_args(
            _NOVA['check_can_live_migrate_destination'], args, kwargs)
        self._nova_mq_context('send this host\'s tap queue cap',
                              values['instance'], self._offer_tap_cap,
                              values['instance'], data)
        return data

    def _tap_cap_refusal(self, instance, migrate_data):
        """Source: why the destination cannot take the running NICs.

        Records each migrating NIC's running queues in the migrate data
        (the destination plugs its taps with them).  Returns the reason to
        refuse, or None.
        """
        migrate_vifs = _migrate_vifs(migrate_data)
        ifaces = running_interfaces(self._host.get_guest(instance))
        queues = {iface['mac'].lower(): iface['queues'] for iface in ifaces}
        offer = next((_migrate_meta(mv) for mv in migrate_vifs
                      if 'dest_tap_queue_cap' in _migrate_meta(mv)), {})
        for migrate_vif in migrate_vifs:
            mac = migrate_vif.source_vif['address'].lower()
            if mac in queues:
                _set_migrate_meta(migrate_vif, running_queues=queues[mac])
        cap = offer.get('dest_tap_queue_cap')
        if cap is None:
            LOG.debug('nova-mq: the destination sent no tap queue cap (it '
                      'does not run nova-mq, or no port binding workflow); '
                      'not checked.', instance=instance)
            return None
        over = [iface for iface in ifaces if iface['queues'] > int(cap)]
        LOG.debug('nova-mq: destination %(host)s tap queue cap %(cap)s '
                  '(%(origin)s); running NICs %(queues)s',
                  {'host': offer.get('dest_host'), 'cap': cap,
                   'origin': offer.get('dest_tap_queue_cap_from'),
                   'queues': queues}, instance=instance)
        if not over:
            return None
        nics = ', '.join('%s (%d queues)' % (iface['mac'], iface['queues'])
                         for iface in over)
        return _('destination host %(host)s allows at most %(cap)s queues '
                 'per tap device (%(origin)s), fewer than the running NIC '
                 '%(nics)s of instance %(uuid)s; choose a destination whose '
                 '[libvirt]max_queues (or kernel) allows %(need)d queues') % {
            'host': offer.get('dest_host'), 'cap': cap,
            'origin': offer.get('dest_tap_queue_cap_from'), 'nics': nics,
            'uuid': instance.uuid,
            'need': max(iface['queues'] for iface in over)}

    def check_can_live_migrate_source(self, *args, **kwargs):
        result = super(MultiqueueLibvirtDriver,
                       self).check_can_live_migrate_source(*args, **kwargs)
        instance = nova_names.bind_args(
            _NOVA['check_can_live_migrate_source'], args, kwargs)['instance']
        reason = self._nova_mq_context(
            'check the destination\'s tap queue cap', instance,
            self._tap_cap_refusal, instance, result)
        if reason:
            LOG.warning('nova-mq refuses the live migration: %s', reason,
                        instance=instance)
            raise nova_exception.MigrationPreCheckError(reason=reason)
        return result

    # Live migration: the destination XML and taps keep running queues.

    def _migration_source_guest(self, guest, migrate_data):
        """Source: guest_context kwargs for the destination XML."""
        migrate_vifs = _migrate_vifs(migrate_data)
        if not migrate_vifs:
            return None  # Nova keeps the running <interface> elements.
        dest_vifs = {mv.source_vif['address'].lower(): mv.get_dest_vif()
                     for mv in migrate_vifs}
        return _fixed_guest(running_interfaces(guest), dest_vifs,
                            list(dest_vifs.values()))

    def _live_migration_operation(self, *args, **kwargs):
        return self._nova_call(
            '_live_migration_operation',
            'read the running NICs\' queues for the destination XML',
            lambda v: self._migration_source_guest(v['guest'],
                                                   v['migrate_data']),
            args, kwargs)

    @staticmethod
    def _migration_dest_guest(migrate_data):
        """Destination: guest_context kwargs from the source's queues."""
        nics = []
        fixed = {}
        for migrate_vif in _migrate_vifs(migrate_data):
            vif = migrate_vif.get_dest_vif()
            nics.append(vif)
            queues = _migrate_meta(migrate_vif).get('running_queues')
            if queues:
                fixed[vif['address']] = int(queues)
        if not fixed:
            return None  # The source sent none: plan as at boot.
        return {'network_info': nics, 'fixed_queues': fixed}

    def pre_live_migration(self, *args, **kwargs):
        return self._nova_call(
            'pre_live_migration',
            'read the running NICs\' queues for plugging',
            lambda v: self._migration_dest_guest(v['migrate_data']),
            args, kwargs)
