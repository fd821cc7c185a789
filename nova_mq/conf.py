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
"""nova-mq's options: the ``[nova_mq]`` group of nova.conf.

``enabled`` is the switch: ``register_switch()`` registers it (and the
group) alone, with nothing but oslo.config imported, for nova-mq's
start-up hook (nova_mq.hook) to read on a nova-compute that may not use
nova-mq at all.  The other options' defaults and ranges are the compiled
engine's (``_engine.DEFAULT_MSI_VECTOR_BUDGET``,
``MIN_MSI_VECTOR_BUDGET``, ``MAX_OPTION_VALUE``...), so ``opts()``,
``register_opts()`` (the hook when enabled, the vif driver) and
``list_opts()`` import the engine, on their first call.  ``list_opts()``
is the ``oslo.config.opts`` entry point, so ``oslo-config-generator
--namespace nova_mq`` writes a sample.
"""

import functools

from oslo_config import cfg

GROUP = cfg.OptGroup(
    'nova_mq',
    title='nova-mq: virtio-net multiqueue',
    help='Options of nova-mq, virtio-net multiqueue for Nova\'s libvirt '
         'driver.')

#: The switch (nova_mq.hook reads it before anything else of nova-mq).
ENABLED_OPT = cfg.BoolOpt(
    'enabled',
    default=False,
    help="""
Use nova-mq in nova-compute's libvirt driver.

When true, ``compute_driver = libvirt.LibvirtDriver`` is built as
``nova_mq.driver.MultiqueueLibvirtDriver``: Nova's driver with
nova-mq's vif driver, which plans each guest's virtio-net queues.
The flavor extra specs ``mq:throughput``, ``mq:max_queues`` and
``mq:msi_vector_budget`` and the port binding profile keys
``mq_queues`` and ``mq_throughput`` take effect, and the guest's
NICs share one MSI-X vector budget. With no such knob set, the
domain XML is byte for byte what Nova writes. Other compute drivers,
and subclasses of LibvirtDriver, are never changed.

Read once, when nova-compute loads its compute driver: restart
nova-compute after changing it. When nova-mq is in use, nova-compute
logs ``nova-mq: [nova_mq] enabled = true`` at INFO level. If nova-mq
cannot be used (a bad ``[nova_mq]`` value, a broken install),
nova-compute logs an ERROR and runs Nova's own driver.

Possible values:

* False (default): nova-mq changes nothing.
* True: nova-compute's libvirt driver uses nova-mq.
""")


@functools.lru_cache(maxsize=None)
def _all_opts():
    """The options, built once: the engine gives defaults and ranges."""
    from nova_mq import _engine
    return (
        ENABLED_OPT,
        cfg.IntOpt(
            'msi_vector_budget',
            default=_engine.DEFAULT_MSI_VECTOR_BUDGET,
            min=_engine.MIN_MSI_VECTOR_BUDGET,
            max=_engine.MAX_OPTION_VALUE,
            help="""
MSI-X vectors one guest may use in all: its NICs and its other
devices.

KVM gives a guest 4096 interrupt routes and QEMU fails when they run
out. A virtio NIC with N queue pairs uses 2N+2 vectors (3 with one
queue). When a guest's NICs would use more than this budget minus
``reserved_msi_vectors``, nova-mq lowers the largest NICs' queue
counts until they fit; when even one queue each does not fit, the
guest still boots and a warning is logged. The flavor extra spec
``mq:msi_vector_budget`` overrides this per flavor (for example 200
for older guest kernels).

Related options:

* ``reserved_msi_vectors``
"""),
        cfg.IntOpt(
            'reserved_msi_vectors',
            default=_engine.DEFAULT_RESERVED_MSI_VECTORS,
            min=0,
            max=_engine.MAX_OPTION_VALUE,
            help="""
MSI-X vectors kept for the guest's other devices (disks,
controllers, balloon).

The guest's NICs may use ``msi_vector_budget`` (or the flavor's
``mq:msi_vector_budget``) minus this.

Related options:

* ``msi_vector_budget``
"""),
    )


def opts():
    """Every [nova_mq] option, ``enabled`` first (imports the engine)."""
    return list(_all_opts())


def register_switch(conf):
    """Register the [nova_mq] group and ``enabled`` only (idempotent)."""
    conf.register_group(GROUP)
    conf.register_opt(ENABLED_OPT, group=GROUP)


def register_opts(conf):
    """Register every [nova_mq] option on conf (idempotent)."""
    conf.register_group(GROUP)
    conf.register_opts(_all_opts(), group=GROUP)


def list_opts():
    """The oslo.config.opts entry point: [(group, options)].

    The shape oslo-config-generator and oslo.config's Sphinx extension
    iterate (a dict would give them its keys only).
    """
    return [(GROUP, opts())]
