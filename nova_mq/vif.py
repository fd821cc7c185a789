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
"""nova-mq's vif driver: Nova's LibvirtGenericVIFDriver, planned by the engine.

Data flow of ``get_config(instance, vif, image_meta, flavor, virt_type)``:

1. Nova's objects are read into plain values (``_GuestReader``): the flavor's
   vCPUs and extra specs, the image's properties, ``[libvirt]`` and
   ``[nova_mq]`` options, the host's kernel, and each of the guest's VIFs
   (type, vnic type, resolved model, binding profile).
2. The engine plans every NIC of the guest at once (the MSI budget spans
   them all); the plan for ``vif`` is picked out by MAC.
3. Nova's own ``get_config`` builds the interface config.  Its
   ``get_base_config`` is where Nova decides driver and queues; there this
   class puts in the plan's, so everything else (source, target, vhost-user,
   vDPA, bandwidth...) stays Nova's code.  With Nova's debug logging off,
   an os-vif VIF skips only the first step of Nova's ``get_config``:
   ``repr(instance)`` for a debug line that is not written.
4. The config is returned as a ``MultiqueueGuestInterface``: Nova's class
   whose ``to_xml()`` and ``format_dom()`` are written by the C emitter.

The guest's NIC list is what the libvirt driver passes in (``guest_context``,
set by nova_mq.driver for ``_get_guest_config``, hotplug and live
migration), else the instance's network info cache if it is loaded, else
just this VIF.  Within one ``guest_context`` the plan is made once.
"""

import contextlib
import contextvars
import os

from lxml import etree
from nova import exception as nova_exception
from nova import objects
from nova.i18n import _
from nova.network import model as network_model
from nova.network import os_vif_util
from nova.virt.libvirt import config as vconfig
from nova.virt.libvirt import vif as nova_vif
from oslo_log import log as logging
from oslo_versionedobjects import base as ovo_base
import os_vif
from os_vif import exception as osv_exception

import nova.conf
import nova.privsep.linux_net
import nova_mq
from nova_mq import _engine
from nova_mq import conf as mq_conf

CONF = nova.conf.CONF
mq_conf.register_opts(CONF)
LOG = logging.getLogger(__name__)

#: Exceptions that mean the user's input is wrong: they fail the call as
#: Nova would.  Anything else nova-mq raises is its own bug: it is logged
#: and Nova's own result is used for that NIC.
USER_ERRORS = (nova_exception.NovaException,)

_IMAGE_PROP_NAMES = ('hw_vif_multiqueue_enabled', 'hw_virtio_packed_ring')


class GuestContext(object):
    """What the libvirt driver knows about the guest it is configuring.

    ``network_info``: the guest's VIFs, in domain order, or None.
    ``fixed_queues``: {MAC: queues} of NICs already running in the guest;
    the plan keeps those counts (hotplug, live migration).
    """

    def __init__(self, network_info=None, fixed_queues=None):
        self.network_info = network_info
        self.fixed_queues = dict(fixed_queues or {})
        self._key = None
        self._plan = None

    def cached(self, key):
        return self._plan if self._key == key else None

    def remember(self, key, plan):
        self._key = key
        self._plan = plan


_GUEST = contextvars.ContextVar('nova_mq_guest', default=None)
# (MAC, NicPlan) of the NIC whose get_config() is running.
_NIC = contextvars.ContextVar('nova_mq_nic', default=None)
# {id(image_meta): (image_meta, model)}: get_vif_model()'s answers within
# one get_config() or guest_context().  plan_guest() resolves the image's
# model, then Nova's get_base_config() asks again, per NIC (7 us a time).
_MODELS = contextvars.ContextVar('nova_mq_models', default=None)


@contextlib.contextmanager
def guest_context(network_info=None, fixed_queues=None):
    """Plan the vif driver's calls in this block against this guest."""
    token = _GUEST.set(GuestContext(network_info, fixed_queues))
    models = _MODELS.set({})
    try:
        yield _GUEST.get()
    finally:
        _MODELS.reset(models)
        _GUEST.reset(token)


class _AnyGuestInterface(type):
    """isinstance(x, MultiqueueGuestInterface) for every interface config.

    Nova finds a device in the running domain by the type of the config the
    vif driver returned (Guest.get_interface_by_cfg -> get_all_devices
    (type(cfg))); the domain's devices are parsed as Nova's own class, and
    must still match.
    """

    def __instancecheck__(cls, obj):
        return isinstance(obj, _NovaGuestInterface)


#: Nova's class, bound once: MultiqueueGuestInterface may be installed under
#: its name in nova.virt.libvirt.config (a custom driver; Nova's own tests
#: run with nova-mq in place), and must then not find itself there.
_NovaGuestInterface = vconfig.LibvirtConfigGuestInterface

# (id(config), method name) of Nova's methods running in this context.
_IN_NOVA = contextvars.ContextVar('nova_mq_in_nova', default=frozenset())


def _nova_method(name, nova_method):
    """Nova's method ``name``, safe with its class's name taken by ours.

    Nova calls ``super(LibvirtConfigGuestInterface, self)`` by the module's
    global name (in __init__, format_dom, parse_dom).  With a subclass
    installed under that name, that super() lands on the subclass's next
    class, Nova's own, whose method would call itself without end.  Such a
    re-entry goes on to Nova's base class, which is what Nova's super()
    means.
    """
    def method(self, *args, **kwargs):
        key = (id(self), name)
        running = _IN_NOVA.get()
        if key in running:
            return getattr(super(_NovaGuestInterface, self), name)(
                *args, **kwargs)
        token = _IN_NOVA.set(running | {key})
        try:
            return nova_method(self, *args, **kwargs)
        finally:
            _IN_NOVA.reset(token)

    method.__name__ = name
    method.__doc__ = nova_method.__doc__
    return method


# Nova's methods that call super() by the class's global name.
_InNovasPlace = type('_InNovasPlace', (_NovaGuestInterface,), {
    name: _nova_method(name, value)
    for name, value in vars(_NovaGuestInterface).items()
    if {'super', _NovaGuestInterface.__name__} <= set(
        getattr(getattr(value, '__code__', None), 'co_names', ()))})


class MultiqueueGuestInterface(_InNovasPlace, metaclass=_AnyGuestInterface):
    """Nova's interface config, written by nova-mq's C emitter.

    Byte for byte what Nova's to_xml() writes for the same attributes.  An
    attribute the emitter does not know (a newer Nova's, or one a caller
    added) is not dropped, and a value it refuses is not an error of its
    own: the config is then written by Nova's code, which writes it or
    raises what Nova raises.
    """

    def to_xml(self, pretty_print=True):
        try:
            return _engine.render_attrs(self.__dict__, pretty_print)
        except (TypeError, nova_mq.exception.InvalidInterfaceConfig):
            return super(MultiqueueGuestInterface, self).to_xml(pretty_print)

    def format_dom(self):
        try:
            xml = _engine.render_attrs(self.__dict__, False)
        except (TypeError, nova_mq.exception.InvalidInterfaceConfig):
            return super(MultiqueueGuestInterface, self).format_dom()
        return etree.fromstring(xml)


# Where oslo.versionedobjects keeps these fields of an object (see _values).
_VCPUS = ovo_base._get_attrname('vcpus')
_EXTRA_SPECS = ovo_base._get_attrname('extra_specs')
_NAME = ovo_base._get_attrname('name')
_PROPERTIES = ovo_base._get_attrname('properties')
_INFO_CACHE = ovo_base._get_attrname('info_cache')
_IMAGE_PROPS = tuple((name, ovo_base._get_attrname(name))
                     for name in _IMAGE_PROP_NAMES)


def _values(obj):
    """A Nova object's set fields, by attribute name (never a lazy load).

    oslo.versionedobjects keeps a set field as an instance attribute; a
    field that is not set is not there.  Read so, a field costs one dict
    look-up instead of a Python property call (get_config runs this for
    every guest, on caches that are cold: it matters there).
    """
    return getattr(obj, '__dict__', None) or {}


def _image_properties(image_meta):
    props = _values(_values(image_meta).get(_PROPERTIES))
    return {name: props[attr] for name, attr in _IMAGE_PROPS
            if attr in props}


def _uuid(instance):
    """The instance's UUID for a log line, or None."""
    return getattr(instance, 'uuid', None)


def _cached_network_info(instance):
    """The instance's network info, if loaded; never a database call."""
    cache = _values(instance).get(_INFO_CACHE)
    network_info = cache.network_info if cache is not None else None
    return network_info if isinstance(network_info, list) else None


class MultiqueueVIFDriver(nova_vif.LibvirtGenericVIFDriver):
    """LibvirtGenericVIFDriver with nova-mq's queue policy and emitter."""

    def _options(self, virt_type):
        # Read as a mapping, each group once: oslo.config's attribute access
        # first fails a normal lookup (an AttributeError), twice as slow.
        libvirt_opts = CONF['libvirt']
        mq_opts = CONF['nova_mq']
        return {
            'max_queues': libvirt_opts['max_queues'],
            'rx_queue_size': libvirt_opts['rx_queue_size'],
            'tx_queue_size': libvirt_opts['tx_queue_size'],
            'msi_vector_budget': mq_opts['msi_vector_budget'],
            'reserved_msi_vectors': mq_opts['reserved_msi_vectors'],
            'packed_ring': nova_mq.NOVA_HAS_PACKED_RING,
            'vif_models': nova_vif.SUPPORTED_VIF_MODELS.get(virt_type),
        }

    @staticmethod
    def _engine_nics(vifs, model, fixed_queues):
        nics = []
        for vif in vifs:
            nic = {'vif_type': vif.get('type'),
                   'vnic_type': vif.get('vnic_type'),
                   'model': model,
                   'profile': vif.get('profile')}
            if fixed_queues:
                queues = fixed_queues.get(vif.get('address'))
                if queues is not None:
                    nic['fixed_queues'] = queues
            nics.append(nic)
        return nics

    def plan_guest(self, instance, vif, image_meta, flavor, virt_type):
        """The engine's GuestPlan for the guest of vif, and vif's index."""
        ctx = _GUEST.get()
        vifs = None
        fixed = None
        if ctx is not None:
            vifs = ctx.network_info
            fixed = ctx.fixed_queues
        if vifs is None:
            vifs = _cached_network_info(instance)
        vifs = list(vifs or ())
        mac = vif.get('address')
        macs = [v.get('address') for v in vifs]
        if mac not in macs:
            vifs.append(vif)
            macs.append(mac)
        index = macs.index(mac)
        key = (id(flavor), id(image_meta), virt_type, tuple(macs))
        plan = ctx.cached(key) if ctx is not None else None
        if plan is None:
            plan = self._plan(vifs, image_meta, flavor, virt_type, fixed)
            if ctx is not None:
                ctx.remember(key, plan)
        return plan, index

    def _plan(self, vifs, image_meta, flavor, virt_type, fixed):
        if not isinstance(image_meta, objects.ImageMeta):
            image_meta = objects.ImageMeta.from_dict(image_meta or {})
        model = self.get_vif_model(image_meta=image_meta)
        options = self._options(virt_type)
        # Nova reads the kernel only without [libvirt]max_queues; so does
        # the engine (it never parses '').
        host = {'kernel_release': '' if options['max_queues'] else
                os.uname().release}
        # Read as Nova's hardware.py reads them: unset extra specs are {},
        # not a lazy load (which fails for a flavor that is not in the DB).
        values = _values(flavor)
        vcpus = values.get(_VCPUS)
        return nova_mq.plan_guest(
            flavor.vcpus if vcpus is None else vcpus,
            values.get(_EXTRA_SPECS) or {}, _image_properties(image_meta),
            virt_type, host, options,
            self._engine_nics(vifs, model, fixed), values.get(_NAME),
            _values(image_meta).get(_NAME))

    def get_vif_model(self, image_meta=None, vif_model=None):
        models = _MODELS.get()
        if models is None or vif_model is not None:
            return super(MultiqueueVIFDriver, self).get_vif_model(
                image_meta=image_meta, vif_model=vif_model)
        known = models.get(id(image_meta))
        if known is None or known[0] is not image_meta:
            known = models[id(image_meta)] = (
                image_meta, super(MultiqueueVIFDriver, self).get_vif_model(
                    image_meta=image_meta))
        return known[1]

    def get_config(self, instance, vif, image_meta, flavor, virt_type):
        if _MODELS.get() is not None:
            return self._planned_config(instance, vif, image_meta, flavor,
                                        virt_type)
        models = _MODELS.set({})
        try:
            return self._planned_config(instance, vif, image_meta, flavor,
                                        virt_type)
        finally:
            _MODELS.reset(models)

    def _planned_config(self, instance, vif, image_meta, flavor, virt_type):
        try:
            plan, index = self.plan_guest(instance, vif, image_meta, flavor,
                                          virt_type)
            nic = plan.nics[index]
        except nova_mq.exception.NovaMQInvalid:
            raise
        except USER_ERRORS as e:
            # One of Nova's own checks (the model for the virt type, a
            # flavor/image conflict): Nova's code below makes it for this
            # NIC, in Nova's order, and fails with Nova's exception -- or,
            # for a NIC Nova does not check (a PCI hostdev), builds it.
            LOG.debug('nova-mq: instance %(uuid)s NIC %(mac)s: %(error)s; '
                      'Nova\'s own code decides.',
                      {'uuid': _uuid(instance), 'mac': vif.get('address'),
                       'error': e})
            nic = None
        except Exception:
            LOG.warning('nova-mq could not plan NIC %(mac)s of instance '
                        '%(uuid)s; it gets Nova\'s own queue settings.',
                        {'mac': vif.get('address'),
                         'uuid': _uuid(instance)}, exc_info=True)
            nic = None
        # The line's values are read only when it is written (~3 us).
        if nic is not None and LOG.isEnabledFor(logging.DEBUG):
            LOG.debug('nova-mq: instance %(uuid)s NIC %(mac)s '
                      '(%(vif_type)s, %(model)s): driver=%(driver)s '
                      'queues=%(queues)s (requested %(requested)d), '
                      '%(msi)d MSI vectors of the guest\'s %(guest_msi)d/'
                      '%(budget)d, vhost %(mem)d bytes; %(reasons)s',
                      {'uuid': _uuid(instance), 'mac': vif.get('address'),
                       'vif_type': vif.get('type'), 'model': nic.model,
                       'driver': nic.driver, 'queues': nic.queues,
                       'requested': nic.requested, 'msi': nic.msi_vectors,
                       'guest_msi': plan.msi_vectors,
                       'budget': plan.msi_budget, 'mem': nic.vhost_memory,
                       'reasons': ', '.join(nic.reasons) or 'as Nova'})
        token = _NIC.set((vif.get('address'), nic))
        try:
            conf = self._nova_get_config(instance, vif, image_meta, flavor,
                                         virt_type)
        finally:
            _NIC.reset(token)
        if type(conf) is vconfig.LibvirtConfigGuestInterface:
            conf.__class__ = MultiqueueGuestInterface
        return conf

    def _nova_get_config(self, instance, vif, image_meta, flavor, virt_type):
        """Nova's get_config(), without the debug line it does not write.

        Nova's get_config() makes repr(instance) for a debug line before
        anything else, written or not: about half its time for an os-vif
        VIF (the instance's every set field).  With Nova's debug logging
        off, this runs the rest of Nova's get_config() for an os-vif VIF
        (Nova's conversion, then Nova's _get_config_os_vif()), in Nova's
        order; everything else (debug on, no VIF type, a legacy VIF type)
        is Nova's get_config() itself.
        """
        vnic_type = vif['vnic_type']
        vif_obj = None
        if vif['type'] is not None and not nova_vif.LOG.isEnabledFor(
                logging.DEBUG):
            vif_obj = os_vif_util.nova_to_osvif_vif(vif)
        if vif_obj is None:
            return super(MultiqueueVIFDriver, self).get_config(
                instance, vif, image_meta, flavor, virt_type)
        return self._get_config_os_vif(instance, vif_obj, image_meta, flavor,
                                       virt_type, vnic_type)

    def _get_virtio_mq_settings(self, image_meta, flavor):
        current = _NIC.get()
        if current is not None and current[1] is not None:
            # Planned: get_base_config() below sets the plan's values.
            return None, None
        return super(MultiqueueVIFDriver, self)._get_virtio_mq_settings(
            image_meta, flavor)

    def _get_packed_virtqueue_settings(self, image_meta, flavor):
        # Nova 2023.1+ (Zed has no packed ring).  The plan has decided it,
        # as Nova does (tests/unit/test_plan.py, the packed parity matrix):
        # not worked out again per NIC (3.6 us).
        current = _NIC.get()
        if current is not None and current[1] is not None:
            return current[1].packed
        return super(MultiqueueVIFDriver, self)._get_packed_virtqueue_settings(
            image_meta, flavor)

    def get_base_config(self, instance, mac, image_meta, flavor, virt_type,
                        vnic_type):
        conf = super(MultiqueueVIFDriver, self).get_base_config(
            instance, mac, image_meta, flavor, virt_type, vnic_type)
        current = _NIC.get()
        # os-vif hands Nova's get_base_config() the MAC lower-cased.
        if current is not None and current[1] is not None and (
                (current[0] or '').lower() == (mac or '').lower()):
            conf.driver_name = current[1].driver
            conf.vhost_queues = current[1].queues
        return conf

    # Plugging: a tap Nova creates itself is multiqueue where the plan is.

    def _plan_wants_multiqueue(self, instance, vif):
        """Whether vif's plan has more than one queue pair.

        None when nova-mq cannot plan it (an internal error, logged with
        its traceback): Nova's own rule decides.  User input errors raise,
        as get_config() does.
        """
        names = {'mac': vif.get('address'), 'uuid': _uuid(instance)}
        try:
            plan, index = self.plan_guest(
                instance, vif, instance.image_meta, instance.flavor,
                CONF.libvirt.virt_type)
            queues = plan.nics[index].queues or 1
        except USER_ERRORS:
            raise
        except Exception:
            LOG.warning('nova-mq could not plan the tap of NIC %(mac)s of '
                        'instance %(uuid)s; it is created as Nova creates '
                        'it.', names, exc_info=True)
            return None
        LOG.debug('nova-mq: instance %(uuid)s NIC %(mac)s: tap for '
                  '%(queues)d queue(s)', dict(names, queues=queues))
        return queues > 1

    def plug(self, instance, vif):
        # _plug_os_vif() gets os-vif's VIF; the plan needs Nova's.
        token = _PLUG_VIF.set(vif)
        try:
            return super(MultiqueueVIFDriver, self).plug(instance, vif)
        finally:
            _PLUG_VIF.reset(token)

    def plug_tap(self, instance, vif):
        if not self._plan_wants_multiqueue(instance, vif):
            # Nova's own tap: multiqueue where Nova's rule says so.
            return super(MultiqueueVIFDriver, self).plug_tap(instance, vif)
        # Nova's plug_tap, with a multiqueue tap.
        dev = self.get_vif_devname(vif)
        mac = vif['details'].get(network_model.VIF_DETAILS_TAP_MAC_ADDRESS)
        nova.privsep.linux_net.create_tap_dev(dev, mac, multiqueue=True)
        network = vif.get('network')
        mtu = network.get_meta('mtu') if network else None
        nova.privsep.linux_net.set_device_mtu(dev, mtu)

    def _plug_os_vif(self, instance, vif):
        profile = _tap_profile(vif)
        plugging = _PLUG_VIF.get()
        if (profile is None or plugging is None or
                plugging.get('address') != vif.address or
                not self._plan_wants_multiqueue(instance, plugging)):
            # No tap created by os-vif, or no queues beyond Nova's rule.
            return super(MultiqueueVIFDriver, self)._plug_os_vif(
                instance, vif)
        # Nova's _plug_os_vif, with the plan's multiqueue.
        profile.multiqueue = True
        instance_info = os_vif_util.nova_to_osvif_instance(instance)
        try:
            os_vif.plug(vif, instance_info)
        except osv_exception.ExceptionBase as ex:
            msg = (_("Failure running os_vif plugin plug method: %(ex)s")
                   % {'ex': ex})
            raise nova_exception.InternalError(msg)


# Nova's VIF being plugged (MultiqueueVIFDriver.plug).
_PLUG_VIF = contextvars.ContextVar('nova_mq_plug_vif', default=None)


def _has(obj, name):
    """An os-vif object's field ``name`` exists and is set."""
    return name in obj.fields and name in obj


def _tap_profile(vif):
    """os-vif VIF's port profile if os-vif creates its tap, else None.

    Only a profile with ``create_tap`` set and a ``multiqueue`` field
    (newer os-vif releases; not the os-vif 3.0 of Debian's Zed) qualifies.
    """
    if not _has(vif, 'port_profile') or vif.port_profile is None:
        return None
    profile = vif.port_profile
    if (_has(profile, 'create_tap') and profile.create_tap and
            'multiqueue' in profile.fields):
        return profile
    return None
