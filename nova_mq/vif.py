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

Every method here calls Nova's own and changes one decision, the one Nova
makes about a NIC's virtio queues; Nova's code does the rest.  The Nova
names it relies on are listed in nova_mq.nova_names.

``get_config(instance, vif, image_meta, flavor, virt_type)`` is Nova's.
nova-mq only records which NIC of which guest it is configuring.  Nova's
``get_base_config()`` asks two questions nova-mq answers with the guest's
plan: ``_get_packed_virtqueue_settings(image_meta, flavor)`` (Nova 2023.1+,
every NIC, before the model is known: the plan is made there for a virtio
guest, tentatively) and ``_get_virtio_mq_settings(image_meta, flavor)``
(the driver and queues, asked only of a virtio NIC on kvm or parallels,
which confirms the plan).  A NIC Nova asks no queues of is planned after
Nova's ``get_config()`` with the guest's real model.  The plan:

1. Nova's objects are read into plain values through their public
   accessors (``_GuestReader``): the flavor's vCPUs and extra specs, the
   image's properties, ``[libvirt]`` and ``[nova_mq]`` options, the host's
   kernel, and each of the guest's VIFs (type, vnic type, binding profile).
2. The engine plans every NIC of the guest at once (the MSI budget spans
   them all); the plan for ``vif`` is picked out by MAC.

The config is Nova's own ``LibvirtConfigGuestInterface``, and its XML is
Nova's.  Plugging is Nova's too: where the plan has queues,
``plug_tap()`` and ``_plug_os_vif()`` get the instance with a flavor that
makes Nova's own multiqueue rule say so (``_PlugView``).

The guest's NIC list is what the libvirt driver passes in (``guest_context``,
set by nova_mq.driver for ``_get_guest_config``, hotplug and live
migration), else the instance's network info cache if it is loaded, else
just this VIF.  Within one ``guest_context`` the plan is made once.
"""

import contextlib
import contextvars
import os

from nova import exception as nova_exception
from nova import objects
from nova.objects import image_meta as nova_image_meta
from nova.virt.libvirt import vif as nova_vif
from oslo_log import log as logging

import nova.conf
import nova_mq
from nova_mq import conf as mq_conf
from nova_mq import nova_names

CONF = nova.conf.CONF
mq_conf.register_opts(CONF)
LOG = logging.getLogger(__name__)

#: Exceptions that mean the user's input is wrong: they fail the call as
#: Nova would.  Anything else nova-mq raises is its own bug: it is logged
#: and Nova's own result is used for that NIC.
USER_ERRORS = (nova_exception.NovaException,)

#: Nova's VIF model whose NICs may have queues.
VIRTIO = 'virtio'

#: The image properties the engine reads, those the installed Nova has
#: (Zed has no hw_virtio_packed_ring).
_IMAGE_PROP_NAMES = tuple(
    name for name in ('hw_vif_multiqueue_enabled', 'hw_virtio_packed_ring')
    if name in nova_image_meta.ImageMetaProps.fields)
_MQ_SPEC = 'hw:vif_multiqueue_enabled'

# Nova's methods whose arguments the overrides read by name, as Nova
# defines them (bound here, so that a mock of one cannot change the names).
_NOVA_MQ_SETTINGS = nova_vif.LibvirtGenericVIFDriver._get_virtio_mq_settings
_NOVA_PLUG_OS_VIF = nova_vif.LibvirtGenericVIFDriver._plug_os_vif
# Nova 2023.1+ (Zed has no packed ring).
_NOVA_PACKED = getattr(nova_vif.LibvirtGenericVIFDriver,
                       '_get_packed_virtqueue_settings', None)


class GuestContext(object):
    """What the libvirt driver knows about the guest it is configuring.

    ``network_info``: the guest's VIFs, in domain order, or None.
    ``fixed_queues``: {MAC: queues} of NICs already running in the guest;
    the plan keeps those counts (hotplug, live migration).  The guest's
    plan is made once and kept here, for the flavor and image objects (by
    identity: the key holds them, so their ids cannot be reused), virt
    type and model it was made for.  A VIF the guest does not list joins
    it only once a plan with it has been made: a failed plan leaves the
    context as it was.  ``kernel_release``: the host kernel the tap queue
    cap is read from (None: this host's, ``os.uname()``); the ``nova-mq
    plan --kernel-release`` of another host.
    """

    def __init__(self, network_info=None, fixed_queues=None,
                 kernel_release=None):
        self.network_info = network_info
        self.fixed_queues = dict(fixed_queues or {})
        self.kernel_release = kernel_release
        self._vifs = None
        self._index = None
        self._key = None
        self._plan = None

    def _read_vifs(self, instance):
        """The guest's VIFs, read once: network_info, else the instance's
        network info cache if it is loaded."""
        vifs = self.network_info
        if vifs is None and instance is not None:
            vifs = _cached_network_info(instance)
        self._vifs = list(vifs or ())
        self._index = {}
        for i, v in enumerate(self._vifs):
            self._index.setdefault(v.get('address'), i)

    def plan(self, vif, instance, key, make_plan):
        """(plan, index): the guest's plan with vif among its VIFs, and
        vif's index; ``make_plan(vifs)`` makes it when the kept one is not
        for ``key`` (a tuple: flavor, image_meta, then plain values)."""
        if self._vifs is None:
            self._read_vifs(instance)
        mac = vif.get('address')
        index = self._index.get(mac)
        if index is not None and self._same_key(key):
            return self._plan, index
        vifs = self._vifs if index is not None else self._vifs + [vif]
        plan = make_plan(vifs)
        if index is None:
            index = self._index[mac] = len(self._vifs)
            self._vifs = vifs
        self._key, self._plan = key, plan
        return plan, index

    def _same_key(self, key):
        kept = self._key
        return (kept is not None and kept[0] is key[0] and
                kept[1] is key[1] and kept[2:] == key[2:])


class _Call(object):
    """The get_config() call in progress: what the queue seams need.

    ``nic``: (GuestPlan, NicPlan) of the NIC once planned.  ``confirmed``:
    Nova asked for the NIC's queues, so the NIC is virtio and the plan made
    for a virtio guest holds; else the plan made at the packed seam was
    only tentative.
    """

    __slots__ = ('instance', 'vif', 'virt_type', 'nic', 'tentative',
                 'confirmed')

    def __init__(self, instance, vif, virt_type):
        self.instance = instance
        self.vif = vif
        self.virt_type = virt_type
        self.nic = None
        self.tentative = False  # a plan was tried at the packed seam
        self.confirmed = False  # the queue seam was reached


_GUEST = contextvars.ContextVar('nova_mq_guest', default=None)
_CALL = contextvars.ContextVar('nova_mq_call', default=None)
# Nova's VIF being plugged (MultiqueueVIFDriver.plug).
_PLUG_VIF = contextvars.ContextVar('nova_mq_plug_vif', default=None)


@contextlib.contextmanager
def guest_context(network_info=None, fixed_queues=None, kernel_release=None):
    """Plan the vif driver's calls in this block against this guest."""
    token = _GUEST.set(GuestContext(network_info, fixed_queues,
                                    kernel_release))
    try:
        yield _GUEST.get()
    finally:
        _GUEST.reset(token)


# Reading Nova's objects, through their public accessors.

def _extra_specs(flavor):
    """The flavor's extra specs: its accessor, which may lazy-load them.

    Nova's Flavor has no loader for extra specs (a Flavor built without
    them cannot load them): they are then {}, as Nova's hardware.py reads
    them (``flavor.get('extra_specs', {})``).
    """
    try:
        return flavor.extra_specs
    except (nova_exception.ObjectActionError, NotImplementedError):
        return {}


def _image_properties(image_meta):
    """The image properties the engine reads (None: not set)."""
    props = image_meta.properties
    return {name: props.get(name) for name in _IMAGE_PROP_NAMES}


def _obj_field(obj, name):
    """A Nova object's field if it is set (never a lazy load), or None."""
    return getattr(obj, name) if name in obj else None


def _uuid(instance):
    """The instance's UUID for a log line, or None."""
    return getattr(instance, 'uuid', None)


def _cached_network_info(instance):
    """The instance's network info, if loaded; never a database call."""
    cache = _obj_field(instance, 'info_cache')
    if cache is None or 'network_info' not in cache:
        return None
    network_info = cache.network_info
    return network_info if isinstance(network_info, list) else None


def _options(virt_type):
    """The [libvirt] and [nova_mq] values the engine reads."""
    # Read as a mapping, each group once: oslo.config's attribute access
    # first fails a normal lookup, twice as slow.
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


def _engine_nics(vifs, model, fixed_queues):
    nics = []
    for vif in vifs:
        nic = {'vif_type': vif.get('type'),
               'vnic_type': vif.get('vnic_type'),
               'model': model,
               'profile': vif.get('profile')}
        queues = fixed_queues.get(vif.get('address'))
        if queues is not None:
            nic['fixed_queues'] = queues
        nics.append(nic)
    return nics


def _log_decision(instance, vif, plan, nic):
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


class _PlugView(object):
    """The instance, as Nova's plugging code reads it, for a multiqueue tap.

    Nova's ``plug_tap()`` and ``_plug_os_vif()`` make a tap multiqueue when
    ``hardware.get_vif_multiqueue_constraint(instance.flavor,
    instance.image_meta)`` is true.  This view gives them a copy of the
    flavor with ``hw:vif_multiqueue_enabled=true`` (a plan never has queues
    where the image says false, so the two agree); every other attribute
    is the instance's.
    """

    def __init__(self, instance):
        flavor = instance.flavor.obj_clone()
        flavor.extra_specs = dict(_extra_specs(flavor), **{_MQ_SPEC: 'true'})
        self.__dict__.update(_instance=instance, flavor=flavor)

    def __getattr__(self, name):
        return getattr(self.__dict__['_instance'], name)


class MultiqueueVIFDriver(nova_vif.LibvirtGenericVIFDriver):
    """LibvirtGenericVIFDriver with nova-mq's queue policy."""

    def plan_guest(self, instance, vif, image_meta, flavor, virt_type,
                   model=None):
        """The engine's GuestPlan for the guest of vif, and vif's index.

        ``model``: the guest's VIF model when the caller knows it (Nova asks
        for queues only for virtio); else Nova's ``get_vif_model()``.
        """
        ctx = _GUEST.get() or GuestContext()
        key = (flavor, image_meta, virt_type, model)
        if not isinstance(image_meta, objects.ImageMeta):
            image_meta = objects.ImageMeta.from_dict(image_meta or {})
        if model is None:
            model = self.get_vif_model(image_meta=image_meta)
        return ctx.plan(vif, instance, key, lambda vifs: self._plan(
            vifs, image_meta, flavor, virt_type, model, ctx.fixed_queues,
            ctx.kernel_release))

    @staticmethod
    def _plan(vifs, image_meta, flavor, virt_type, model, fixed,
              kernel_release=None):
        options = _options(virt_type)
        # Nova reads the kernel only without [libvirt]max_queues; so does
        # the engine (it never parses '').
        if options['max_queues']:
            kernel_release = ''
        elif kernel_release is None:
            kernel_release = os.uname().release
        host = {'kernel_release': kernel_release}
        args = (flavor.vcpus, _extra_specs(flavor),
                _image_properties(image_meta), virt_type, host, options,
                _engine_nics(vifs, model, fixed))
        try:
            return nova_mq.plan_guest(*args)
        except nova_exception.FlavorImageConflict:
            # The names are only in Nova's conflict message: read for it.
            return nova_mq.plan_guest(*args + (
                _obj_field(flavor, 'name'), _obj_field(image_meta, 'name')))

    def get_config(self, instance, vif, image_meta, flavor, virt_type):
        call = _Call(instance, vif, virt_type)
        token = _CALL.set(call)
        try:
            conf = super(MultiqueueVIFDriver, self).get_config(
                instance=instance, vif=vif, image_meta=image_meta,
                flavor=flavor, virt_type=virt_type)
        finally:
            _CALL.reset(token)
        if not call.confirmed:
            # A NIC Nova asks no queues of (not virtio, a passthrough
            # vNIC): planned with the guest's real model, so that its
            # knobs are checked as every NIC's are, and for the log.
            call.nic = None
            self._plan_nic(call, image_meta, flavor, model=None)
        if call.nic is not None and LOG.isEnabledFor(logging.DEBUG):
            _log_decision(instance, vif, *call.nic)
        return conf

    def _plan_nic(self, call, image_meta, flavor, model):
        """Set call.nic to the plan of call.vif, or leave it None.

        nova-mq's own invalid values raise; Nova's errors (a flavor/image
        conflict, the model for the virt type) leave it unplanned: Nova's
        own code then raises them in Nova's order.  Any other error is
        nova-mq's bug: logged with its traceback, unplanned.
        """
        try:
            plan, index = self.plan_guest(call.instance, call.vif, image_meta,
                                          flavor, call.virt_type, model)
        except nova_mq.exception.NovaMQInvalid:
            raise
        except USER_ERRORS as e:
            LOG.debug('nova-mq: instance %(uuid)s NIC %(mac)s: %(error)s; '
                      'Nova\'s own code decides.',
                      {'uuid': _uuid(call.instance),
                       'mac': call.vif.get('address'), 'error': e})
            return
        except Exception:
            LOG.warning('nova-mq could not plan NIC %(mac)s of instance '
                        '%(uuid)s; it gets Nova\'s own queue settings.',
                        {'mac': call.vif.get('address'),
                         'uuid': _uuid(call.instance)}, exc_info=True)
            return
        call.nic = (plan, plan.nics[index])

    def _get_packed_virtqueue_settings(self, *args, **kwargs):
        # Nova 2023.1+: get_base_config()'s first question, for every NIC,
        # before it knows the model.  The plan is made here for a virtio
        # guest, tentatively: Nova's next question, the queues, is asked
        # only of virtio NICs, and confirms it.  Any error here is left to
        # the queue seam, or to get_config()'s plan with the real model.
        call = _CALL.get()
        if call is not None and not call.tentative and call.nic is None:
            call.tentative = True
            values = nova_names.bind_args(_NOVA_PACKED, args, kwargs)
            try:
                plan, index = self.plan_guest(
                    call.instance, call.vif, values['image_meta'],
                    values['flavor'], call.virt_type, VIRTIO)
                call.nic = (plan, plan.nics[index])
            except Exception:
                pass
        if call is None or call.nic is None:
            return super(MultiqueueVIFDriver,
                         self)._get_packed_virtqueue_settings(*args, **kwargs)
        return call.nic[1].packed

    def _get_virtio_mq_settings(self, *args, **kwargs):
        call = _CALL.get()
        if call is not None and not call.confirmed:
            call.confirmed = True
            if call.nic is None:
                values = nova_names.bind_args(_NOVA_MQ_SETTINGS, args, kwargs)
                # Nova asks only of a virtio NIC: the guest is virtio.
                self._plan_nic(call, values['image_meta'], values['flavor'],
                               VIRTIO)
        if call is None or call.nic is None:
            return super(MultiqueueVIFDriver, self)._get_virtio_mq_settings(
                *args, **kwargs)
        nic = call.nic[1]
        return nic.driver, nic.queues

    # Plugging: a tap Nova creates is multiqueue where the plan is.

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

    def _plug_instance(self, instance, vif):
        """The instance Nova's plugging code should see for vif: a view
        that asks for a multiqueue tap where the plan has queues, else the
        instance itself (Nova's own rule decides)."""
        if self._plan_wants_multiqueue(instance, vif):
            return _PlugView(instance)
        return instance

    def plug(self, instance, vif):
        # _plug_os_vif() gets os-vif's VIF; the plan needs Nova's.
        token = _PLUG_VIF.set(vif)
        try:
            return super(MultiqueueVIFDriver, self).plug(instance=instance,
                                                         vif=vif)
        finally:
            _PLUG_VIF.reset(token)

    def plug_tap(self, instance, vif):
        return super(MultiqueueVIFDriver, self).plug_tap(
            instance=self._plug_instance(instance, vif), vif=vif)

    def _plug_os_vif(self, *args, **kwargs):
        values = nova_names.bind_args(_NOVA_PLUG_OS_VIF, args, kwargs)
        plugging = _PLUG_VIF.get()
        if plugging is not None and (plugging.get('address') ==
                                     values['vif'].address):
            values['instance'] = self._plug_instance(values['instance'],
                                                     plugging)
        return super(MultiqueueVIFDriver, self)._plug_os_vif(**values)
