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

``GuestPolicy(vcpus, extra_specs=None, image_properties=None,
virt_type='kvm', host=None, options=None, flavor_name=None,
image_name=None)``
    The same guest read and validated once; ``.plan(nics)`` then returns
    what ``plan_guest(..., nics=nics)`` would, converting only the NICs.
    For callers that plan one guest's NICs more than once (a compute
    node's vif driver).

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
driver classes with nova-mq's policy and emitter.  They are imported on
first use: nova-api and oslo-config-generator load nova_mq through its
entry points and need neither.
"""

import importlib

from nova.virt.libvirt import config as _nova_config

from nova_mq import _engine
from nova_mq import exception

__version__ = '0.1.0'

#: True when the installed Nova writes ``packed="on"`` (2023.1 and later);
#: Zed (Debian's 26.x) has ``driver_iommu`` instead.
NOVA_HAS_PACKED_RING = hasattr(
    _nova_config.LibvirtConfigGuestInterface(), 'driver_packed')

_engine._configure(exception.from_engine, NOVA_HAS_PACKED_RING)

plan_guest = _engine.plan
GuestPolicy = _engine.GuestPolicy
render_interface = _engine.render
parse_domain = _engine.parse
GuestPlan = _engine.GuestPlan
NicPlan = _engine.NicPlan

#: Names imported from a submodule on first use.
_LAZY = {
    'MultiqueueVIFDriver': 'nova_mq.vif',
    'MultiqueueGuestInterface': 'nova_mq.vif',
    'MultiqueueLibvirtDriver': 'nova_mq.driver',
}


def __getattr__(name):
    if name not in _LAZY:
        raise AttributeError('module %r has no attribute %r'
                             % (__name__, name))
    value = getattr(importlib.import_module(_LAZY[name]), name)
    globals()[name] = value
    return value


__all__ = [
    'GuestPlan',
    'GuestPolicy',
    'MultiqueueGuestInterface',
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
