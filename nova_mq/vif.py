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
   vDPA, bandwidth...) stays Nova's code.
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
from nova.virt.libvirt import config as vconfig
from nova.virt.libvirt import vif as nova_vif
from oslo_log import log as logging

import nova.conf
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

_IMAGE_PROPS = ('hw_vif_multiqueue_enabled', 'hw_virtio_packed_ring')


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


@contextlib.contextmanager
def guest_context(network_info=None, fixed_queues=None):
    """Plan the vif driver's calls in this block against this guest."""
    token = _GUEST.set(GuestContext(network_info, fixed_queues))
    try:
        yield _GUEST.get()
    finally:
        _GUEST.reset(token)


class _AnyGuestInterface(type):
    """isinstance(x, MultiqueueGuestInterface) for every interface config.

    Nova finds a device in the running domain by the type of the config the
    vif driver returned (Guest.get_interface_by_cfg -> get_all_devices
    (type(cfg))); the domain's devices are parsed as Nova's own class, and
    must still match.
    """

    def __instancecheck__(cls, obj):
        return isinstance(obj, vconfig.LibvirtConfigGuestInterface)


class MultiqueueGuestInterface(vconfig.LibvirtConfigGuestInterface,
                               metaclass=_AnyGuestInterface):
    """Nova's interface config, written by nova-mq's C emitter.

    Byte for byte what Nova's to_xml() writes for the same attributes.  An
    attribute the emitter does not know (a newer Nova's, or one a caller
    added) is not dropped: the config is then written by Nova's code.
    """

    def to_xml(self, pretty_print=True):
        try:
            return _engine.render_attrs(self.__dict__, pretty_print)
        except TypeError:
            return super(MultiqueueGuestInterface, self).to_xml(pretty_print)

    def format_dom(self):
        try:
            xml = _engine.render_attrs(self.__dict__, False)
        except TypeError:
            return super(MultiqueueGuestInterface, self).format_dom()
        return etree.fromstring(xml)


def _field(obj, name):
    """A Nova object's field if set, else None (never a lazy load)."""
    return getattr(obj, name) if obj.obj_attr_is_set(name) else None


def _image_properties(image_meta):
    props = image_meta.properties
    return {name: getattr(props, name) for name in _IMAGE_PROPS
            if name in props.fields and props.obj_attr_is_set(name)}


def _cached_network_info(instance):
    """The instance's network info, if loaded; never a database call."""
    try:
        if not instance.obj_attr_is_set('info_cache'):
            return None
        cache = instance.info_cache
    except (AttributeError, NotImplementedError):
        return None
    network_info = cache.network_info if cache is not None else None
    return network_info if isinstance(network_info, list) else None


class MultiqueueVIFDriver(nova_vif.LibvirtGenericVIFDriver):
    """LibvirtGenericVIFDriver with nova-mq's queue policy and emitter."""

    def _options(self, virt_type):
        return {
            'max_queues': CONF.libvirt.max_queues,
            'rx_queue_size': CONF.libvirt.rx_queue_size,
            'tx_queue_size': CONF.libvirt.tx_queue_size,
            'msi_vector_budget': CONF.nova_mq.msi_vector_budget,
            'reserved_msi_vectors': CONF.nova_mq.reserved_msi_vectors,
            'packed_ring': nova_mq.NOVA_HAS_PACKED_RING,
            'vif_models': nova_vif.SUPPORTED_VIF_MODELS.get(virt_type),
        }

    def _engine_nic(self, vif, model, fixed_queues):
        nic = {'vif_type': vif.get('type'),
               'vnic_type': vif.get('vnic_type'),
               'model': model,
               'profile': vif.get('profile')}
        queues = fixed_queues.get(vif.get('address'))
        if queues is not None:
            nic['fixed_queues'] = queues
        return nic

    def plan_guest(self, instance, vif, image_meta, flavor, virt_type):
        """The engine's GuestPlan for the guest of vif, and vif's index."""
        ctx = _GUEST.get()
        vifs = None
        fixed = {}
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
            if not isinstance(image_meta, objects.ImageMeta):
                image_meta = objects.ImageMeta.from_dict(image_meta or {})
            model = self.get_vif_model(image_meta=image_meta)
            plan = nova_mq.plan_guest(
                flavor.vcpus, flavor.extra_specs,
                _image_properties(image_meta), virt_type,
                {'kernel_release': os.uname().release},
                self._options(virt_type),
                [self._engine_nic(v, model, fixed) for v in vifs],
                _field(flavor, 'name'), _field(image_meta, 'name'))
            if ctx is not None:
                ctx.remember(key, plan)
        return plan, index

    def get_config(self, instance, vif, image_meta, flavor, virt_type):
        uuid = getattr(instance, 'uuid', None)
        try:
            plan, index = self.plan_guest(instance, vif, image_meta, flavor,
                                          virt_type)
            nic = plan.nics[index]
        except USER_ERRORS:
            raise
        except Exception:
            LOG.warning('nova-mq could not plan NIC %(mac)s of instance '
                        '%(uuid)s; it gets Nova\'s own queue settings.',
                        {'mac': vif.get('address'), 'uuid': uuid},
                        exc_info=True)
            nic = None
        if nic is not None:
            LOG.debug('nova-mq: instance %(uuid)s NIC %(mac)s '
                      '(%(vif_type)s, %(model)s): driver=%(driver)s '
                      'queues=%(queues)s (requested %(requested)d), '
                      '%(msi)d MSI vectors of the guest\'s %(guest_msi)d/'
                      '%(budget)d, vhost %(mem)d bytes; %(reasons)s',
                      {'uuid': uuid, 'mac': vif.get('address'),
                       'vif_type': vif.get('type'), 'model': nic.model,
                       'driver': nic.driver, 'queues': nic.queues,
                       'requested': nic.requested, 'msi': nic.msi_vectors,
                       'guest_msi': plan.msi_vectors,
                       'budget': plan.msi_budget, 'mem': nic.vhost_memory,
                       'reasons': ', '.join(nic.reasons) or 'as Nova'})
        token = _NIC.set((vif.get('address'), nic))
        try:
            conf = super(MultiqueueVIFDriver, self).get_config(
                instance, vif, image_meta, flavor, virt_type)
        finally:
            _NIC.reset(token)
        if type(conf) is vconfig.LibvirtConfigGuestInterface:
            conf.__class__ = MultiqueueGuestInterface
        return conf

    def _get_virtio_mq_settings(self, image_meta, flavor):
        current = _NIC.get()
        if current is not None and current[1] is not None:
            # Planned: get_base_config() below sets the plan's values.
            return None, None
        return super(MultiqueueVIFDriver, self)._get_virtio_mq_settings(
            image_meta, flavor)

    def get_base_config(self, instance, mac, image_meta, flavor, virt_type,
                        vnic_type):
        conf = super(MultiqueueVIFDriver, self).get_base_config(
            instance, mac, image_meta, flavor, virt_type, vnic_type)
        current = _NIC.get()
        if current is not None and current[1] is not None and (
                current[0] == mac):
            conf.driver_name = current[1].driver
            conf.vhost_queues = current[1].queues
        return conf
