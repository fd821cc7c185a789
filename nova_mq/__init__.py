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
"""nova-mq: virtio-net multiqueue for Nova's libvirt driver.

The public API.  The work is done by the compiled engine, nova_mq._engine
(C and libxml2); these names are its functions, not wrappers, so a call
costs what the C call costs.

``plan_guest(vcpus, extra_specs=None, image_properties=None,
virt_type='kvm', host=None, options=None, nics=(), flavor_name=None,
image_name=None)``
    Plan the queues of every NIC of one guest.  ``extra_specs``: the
    flavor's extra specs (``hw:vif_multiqueue_enabled``,
    ``hw:virtio_packed_ring``, ``mq:throughput``, ``mq:max_queues``,
    ``mq:msi_vector_budget``).  ``image_properties``:
    ``hw_vif_multiqueue_enabled``, ``hw_virtio_packed_ring``.  ``host``:
    ``{'kernel_release': ...}`` (default: this host's).  ``options``:
    ``max_queues``, ``rx_queue_size``, ``tx_queue_size`` ([libvirt]),
    ``msi_vector_budget``, ``reserved_msi_vectors`` ([nova_mq]),
    ``packed_ring`` (the installed Nova writes packed rings) and
    ``vif_models`` (models valid for the virt type).  ``nics``: dicts with
    ``vif_type``, ``vnic_type``, ``model`` (resolved), ``profile`` (the
    port's binding profile: ``mq_queues``, ``mq_throughput``) and
    ``fixed_queues`` (a running NIC's queues).  Returns a ``GuestPlan``,
    a struct sequence of ``NicPlan`` objects: immutable, so the engine hands
    out the same object again for an equal plan asked for soon after.

``render_interface(plan=None, /, *, pretty_print=True, **attrs)``
    The ``<interface>`` XML for the attributes of Nova's
    ``LibvirtConfigGuestInterface`` (same names), byte for byte as its
    ``to_xml()`` writes them.  With a ``NicPlan``, the NIC as planned: the
    plan's driver, queues, rx/tx queue sizes and packed ring give
    ``driver_name``, ``vhost_queues``, ``vhost_rx_queue_size``,
    ``vhost_tx_queue_size`` and ``driver_packed`` (each unless None; none
    of them may be a keyword as well).

``parse_domain(xml)``
    A libvirt domain XML's name, vCPUs and interfaces, as a dict.

Errors are Nova exceptions: see nova_mq.exception.

For custom drivers: ``nova_mq.MultiqueueVIFDriver`` (nova_mq.vif) and
``nova_mq.MultiqueueLibvirtDriver`` (nova_mq.driver), Nova's vif and libvirt
driver classes with nova-mq's policy and emitter.

``import nova_mq`` (and so importing any of its modules) imports nothing
else: each name above is looked up on first use (``__getattr__`` below)
and then kept as a plain global of the package.  The engine's names come
from nova_mq._api, which loads the compiled engine and configures it;
the driver classes from their modules.  So nova-compute with ``[nova_mq]
enabled = false`` (nova_mq.hook), nova-api and oslo-config-generator,
which load nova_mq through its entry points, import only what they use.
"""

__version__ = '0.1.0'

#: Each public name (and ``_engine``, the configured engine that
#: ``from nova_mq import _engine`` gets) and the module that binds it.
_LAZY = {
    'GuestPlan': 'nova_mq._api',
    'NOVA_HAS_PACKED_RING': 'nova_mq._api',
    'NicPlan': 'nova_mq._api',
    '_engine': 'nova_mq._api',
    'parse_domain': 'nova_mq._api',
    'plan_guest': 'nova_mq._api',
    'render_interface': 'nova_mq._api',
    'MultiqueueVIFDriver': 'nova_mq.vif',
    'MultiqueueLibvirtDriver': 'nova_mq.driver',
}
#: Submodules that are names of the package before they are imported.
_SUBMODULES = ('exception',)


def __getattr__(name):
    """A name of the package, imported on its first use and then kept."""
    from importlib import import_module
    if name in _SUBMODULES:
        return import_module('%s.%s' % (__name__, name))
    if name not in _LAZY:
        raise AttributeError('module %r has no attribute %r'
                             % (__name__, name))
    value = getattr(import_module(_LAZY[name]), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))


__all__ = [
    'GuestPlan',
    'MultiqueueLibvirtDriver',
    'MultiqueueVIFDriver',
    'NOVA_HAS_PACKED_RING',
    'NicPlan',
    '__version__',
    'exception',
    'parse_domain',
    'plan_guest',
    'render_interface',
]
