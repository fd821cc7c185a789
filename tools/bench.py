#!/usr/bin/env python3
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
"""Speed of nova-mq's engine against Nova's own code, in the same run.

For each case it times Nova's path and nova-mq's path for the same input
and prints the ratio nova-mq / Nova (below 1.00 is faster) and the speed-up.
Timings are the best of several repeats of many calls (timeit), so other
load on the machine makes them slower, not faster; the clock is the
process's CPU time (``--clock wall`` for elapsed time).  Every case first
checks that both paths write the same XML.  Nothing here asserts a time:
it measures and prints.

Four sections (``--sections``):

engine
    Nova's path for one NIC is what get_base_config() does for the queues,
    _get_virtio_mq_settings(), plus LibvirtConfigGuestInterface.to_xml().
    nova-mq's path is plan_guest() for the NIC plus render_interface()
    given the NIC's plan (one line passes the plan's values by name
    instead).  The engine keeps its last plan for an equal one: one line
    switches that off, one asks for a different plan every call.
vif
    ``get_config(...).to_xml()`` of Nova's LibvirtGenericVIFDriver against
    nova-mq's MultiqueueVIFDriver, for an OVS, a bridge, a vhost-user and a
    tap VIF as Neutron binds them, in a one-NIC guest (the instance's info
    cache), then where nova-mq's time goes: its plan against the Nova step
    it replaces.
guest
    ``_get_guest_config(...).to_xml()`` of Nova's LibvirtDriver against
    nova-mq's MultiqueueLibvirtDriver for guests of 1, 8 and 64 NICs of
    those four kinds, on Nova's fake libvirt (nova.tests.fixtures), which
    needs Nova's test requirements testtools and wsgi-intercept.  Importing
    Nova's test fixtures would apply eventlet's monkey patching: see the
    start of the code.  A last line times the first guest again with
    Nova's and nova-mq's debug logging on (records made, not written).

Logging is Nova's default (``debug = False``) unless a line says otherwise.
In the vif and guest sections nova-mq runs Nova's own code (get_config,
to_xml) and replaces one step of it, Nova's _get_virtio_mq_settings(), by
its plan: the ratios say what that exchange costs or saves.

footprint (only when asked for: minutes under valgrind)
    Not a time: one guest build of the guest section (``--nics``' first
    count) under cachegrind, each side in its own process, per guest:
    instructions executed, and simulated L1 and L2 misses (L1 32 KB 8-way,
    the last level with this CPU's L2 geometry).  It is how the guest
    section's one-NIC ratios are explained (doc/source/performance.rst).

audit
    ``nova-mq audit`` of generated domain XML files (``--audit-files``,
    10,000 by default; nova-compute's devices and metadata, 1 to 4 NICs):
    the parse-and-check step per file, nova-mq's C reader
    (``parse_domain``) against a straightforward lxml + XPath reader
    written here, both followed by the same check; then the whole command
    over the directory (reading the files, output included), in files per
    second.

In the vif and guest sections the two sides alternate, round by round, so
load from other processes falls on both alike, and a ratio above 1.00 is
flagged SLOWER.  Near 1.00 the ratios are within about 1% of noise on a
busy machine: more ``--rounds`` narrow it.
"""

import os

# Nova 2026.1's nova-compute runs on native threads (nova/cmd/compute.py
# starts with monkey_patch.patch(backend='threading')), and so does this
# benchmark.  Else Nova's test fixtures (the guest section) apply eventlet,
# whose thread pool hands each libvirt call of the fake libvirt to a worker
# thread: a few percent of noise in a guest's time, none of it nova-mq's.
# OS_NOVA_DISABLE_EVENTLET_PATCHING=0 runs it under eventlet.
if 'OS_NOVA_DISABLE_EVENTLET_PATCHING' not in os.environ:
    os.environ['OS_NOVA_DISABLE_EVENTLET_PATCHING'] = '1'
from nova import monkey_patch
if hasattr(monkey_patch, 'patch'):  # Zed's patches when imported
    monkey_patch.patch(backend='threading')

import argparse
import contextlib
import difflib
import io
import itertools
import logging
from importlib import metadata
import shutil
import subprocess
import sys
import tempfile
import time
import timeit
from unittest import mock
import uuid

import os_vif
from nova.network import model as network_model
from nova import objects
from nova.virt.libvirt import config as nova_config
from nova.virt.libvirt import vif as nova_vif

import nova.conf
import nova_mq
from nova_mq import vif as mq_vif

CONF = nova.conf.CONF
objects.register_all()

HOST = {'kernel_release': os.uname().release}
MAC = 'fa:16:3e:12:34:56'
OVS = {'vif_type': 'ovs', 'vnic_type': 'normal', 'model': 'virtio'}
VCPUS = 8
SPECS = {'hw:vif_multiqueue_enabled': 'true'}


# -- Timing and reporting ----------------------------------------------------

#: The clock of every timing (--clock): the process's CPU time by default,
#: so that time other processes take from this one is not counted.
TIMERS = {'cpu': time.process_time, 'wall': time.perf_counter}
TIMER = TIMERS['cpu']


def best(func, number, repeat):
    """Seconds per call: the best of repeat runs of number calls."""
    func()  # warm up: Nova builds some of its objects on first use
    return min(timeit.repeat(func, number=number, repeat=repeat,
                             timer=TIMER)) / number


def calls_per_timing(func, seconds=0.01):
    """How many calls of func take about seconds (at least one).

    Short timings, many of them: the best of many 10 ms windows is the
    more likely to have run undisturbed on a busy machine than the best of
    a few long ones (Nova's calls against themselves agree within 0.5%).
    """
    func()  # warm up: Nova builds some of its objects on first use
    once = min(timeit.repeat(func, number=1, repeat=5, timer=TIMER))
    return max(1, int(seconds / once))


def best_auto(func, rounds):
    """best(), with calls_per_timing() calls per timing."""
    return best(func, calls_per_timing(func), rounds)


def best_pair(nova_fn, mq_fn, rounds):
    """Seconds per call of each: the best of rounds timings.

    The two sides alternate (and which goes first alternates too), so a
    burst of load from another process slows one round of both, not one
    side.
    """
    mq_fn()
    number = calls_per_timing(nova_fn)
    runs = {nova_fn: [], mq_fn: []}
    for i in range(rounds):
        for func in ((nova_fn, mq_fn) if i % 2 == 0 else (mq_fn, nova_fn)):
            runs[func].append(timeit.timeit(func, number=number,
                                            timer=TIMER))
    return min(runs[nova_fn]) / number, min(runs[mq_fn]) / number


def report(name, nova_s, mq_s):
    print('%-34s nova %8.2f us  nova-mq %7.3f us  ratio %.3f  (%.0fx)'
          % (name, nova_s * 1e6, mq_s * 1e6, mq_s / nova_s, nova_s / mq_s))


def report_ratio(name, nova_s, mq_s):
    """One line of the vif and guest sections, where the ratio is near 1."""
    ratio = mq_s / nova_s
    print('%-34s nova %9.1f us  nova-mq %9.1f us  ratio %.3f%s'
          % (name, nova_s * 1e6, mq_s * 1e6, ratio,
             '  SLOWER' if ratio > 1.0 else ''))


def check_same_xml(name, nova_xml, mq_xml):
    """A benchmark comparing different outputs is meaningless."""
    if nova_xml != mq_xml:
        diff = difflib.unified_diff(nova_xml.splitlines(),
                                    mq_xml.splitlines(), 'nova', 'nova-mq',
                                    lineterm='')
        raise SystemExit('%s: nova-mq and Nova wrote different XML\n%s'
                         % (name, '\n'.join(diff)))


@contextlib.contextmanager
def planned_by_nova_mq(name):
    """Fail unless nova-mq's engine planned every NIC in the block.

    Where nova-mq cannot plan a NIC (an internal error, or an input error
    it leaves to Nova's code), its driver asks Nova's
    _get_virtio_mq_settings() for the queues: the XML is then Nova's own,
    and the comparison would measure nothing.
    """
    nova_settings = nova_vif.LibvirtGenericVIFDriver._get_virtio_mq_settings

    def settings(driver, *args):
        if isinstance(driver, mq_vif.MultiqueueVIFDriver):
            raise SystemExit('%s: nova-mq fell back to Nova\'s queue '
                             'settings' % name)
        return nova_settings(driver, *args)

    with mock.patch.object(nova_vif.LibvirtGenericVIFDriver,
                           '_get_virtio_mq_settings', settings):
        with mock.patch.object(nova_mq, 'plan_guest',
                               wraps=nova_mq.plan_guest) as plan:
            yield
    if not plan.called:
        raise SystemExit('%s: nova-mq did not plan' % name)


# -- Section engine: plan + emit against Nova's queue code and to_xml() ------

# One case per interface kind, each written as a caller writes it: the
# attributes set by name, on Nova's config object or as render's keywords.
def nova_attrs_ovs(conf):
    conf.net_type = 'ethernet'
    conf.target_dev = 'tap12345678-9a'
    conf.mtu = 1450


def mq_render_ovs(nic):
    return nova_mq.render_interface(
        nic, mac_addr=MAC, model='virtio', net_type='ethernet',
        target_dev='tap12345678-9a', mtu=1450)


def mq_render_ovs_by_name(nic):
    """mq_render_ovs with the plan's values passed by name."""
    return nova_mq.render_interface(
        mac_addr=MAC, model='virtio', driver_name=nic.driver,
        vhost_queues=nic.queues, net_type='ethernet',
        target_dev='tap12345678-9a', mtu=1450)


def nova_attrs_bridge(conf):
    conf.net_type = 'bridge'
    conf.source_dev = 'brq12345678-9a'
    conf.target_dev = 'tap12345678-9a'
    conf.mtu = 1500


def mq_render_bridge(nic):
    return nova_mq.render_interface(
        nic, mac_addr=MAC, model='virtio', net_type='bridge',
        source_dev='brq12345678-9a', target_dev='tap12345678-9a', mtu=1500)


def nova_attrs_vhostuser(conf):
    conf.net_type = 'vhostuser'
    conf.vhostuser_type = 'unix'
    conf.vhostuser_mode = 'server'
    conf.vhostuser_path = '/var/run/openvswitch/vhu12345678-9a'


def mq_render_vhostuser(nic):
    return nova_mq.render_interface(
        nic, mac_addr=MAC, model='virtio', net_type='vhostuser',
        vhostuser_type='unix', vhostuser_mode='server',
        vhostuser_path='/var/run/openvswitch/vhu12345678-9a')


def nova_attrs_tap(conf):
    conf.net_type = 'ethernet'
    conf.target_dev = 'tap12345678-9a'
    conf.managed = 'no'
    conf.mtu = 1450


def mq_render_tap(nic):
    return nova_mq.render_interface(
        nic, mac_addr=MAC, model='virtio', net_type='ethernet',
        target_dev='tap12345678-9a', managed='no', mtu=1450)


CASES = {
    'ovs': (nova_attrs_ovs, mq_render_ovs),
    'bridge': (nova_attrs_bridge, mq_render_bridge),
    'vhostuser': (nova_attrs_vhostuser, mq_render_vhostuser),
    'tap': (nova_attrs_tap, mq_render_tap),
}


def nova_one_nic(driver, flavor, image_meta, set_attrs):
    def run():
        drv, queues = driver._get_virtio_mq_settings(image_meta, flavor)
        conf = nova_config.LibvirtConfigGuestInterface()
        conf.mac_addr = MAC
        conf.model = 'virtio'
        conf.driver_name = drv
        conf.vhost_queues = queues
        set_attrs(conf)
        return conf.to_xml()
    return run


def mq_one_nic(specs, props, vcpus, render):
    nics = [OVS]
    plan_guest = nova_mq.plan_guest

    def run():
        return render(plan_guest(vcpus, specs, props, 'kvm', HOST, None,
                                 nics).nics[0])
    return run


def compare_engine(name, nova_fn, mq_fn, args):
    """Check both write the same XML, then time them and report."""
    check_same_xml(name, nova_fn(), mq_fn())
    report(name, best(nova_fn, args.number // 4, args.repeat),
           best(mq_fn, args.number, args.repeat))


def engine_section(args):
    vcpus = VCPUS
    specs = SPECS
    flavor = objects.Flavor(vcpus=vcpus, extra_specs=specs, name='m1')
    image_meta = objects.ImageMeta.from_dict({'properties': {}})
    driver = nova_vif.LibvirtGenericVIFDriver()
    print('-- engine: plan + emit against Nova\'s queue code + to_xml()')
    with mock.patch('os.uname', return_value=os.uname()):
        for name, (set_attrs, render) in CASES.items():
            if name == 'tap' and not hasattr(
                    nova_config.LibvirtConfigGuestInterface(), 'managed'):
                continue  # Zed writes no managed=; the case is not Zed's
            compare_engine('plan+emit one NIC (%s)' % name,
                           nova_one_nic(driver, flavor, image_meta,
                                        set_attrs),
                           mq_one_nic(specs, {}, vcpus, render), args)
        # The plan's driver and queues passed by name, not as the NicPlan:
        nova_ovs = nova_one_nic(driver, flavor, image_meta, nova_attrs_ovs)
        compare_engine('plan+emit one NIC, by name (ovs)', nova_ovs,
                       mq_one_nic(specs, {}, vcpus, mq_render_ovs_by_name),
                       args)
        # The engine keeps its last plan and returns it for an equal one
        # (ext/py_plan.c says why): the same case with that switched off,
        # and guests that are never alike (more vCPU counts than one).
        set_attrs, render = CASES['ovs']
        was = nova_mq._engine._plan_cache(False)
        try:
            compare_engine('plan+emit one NIC (ovs), no kept plan', nova_ovs,
                           mq_one_nic(specs, {}, vcpus, render), args)
        finally:
            nova_mq._engine._plan_cache(was)
        counts = range(2, 2 + 3 * 64)
        flavors = itertools.cycle([objects.Flavor(vcpus=n, extra_specs=specs,
                                                  name='m1') for n in counts])
        vcpu_counts = itertools.cycle(counts)

        def nova_unalike():
            return nova_one_nic(driver, next(flavors), image_meta,
                                set_attrs)()

        def mq_unalike():
            return render(nova_mq.plan_guest(next(vcpu_counts), specs, {},
                                             'kvm', HOST, None,
                                             [OVS]).nics[0])
        compare_engine('plan+emit one NIC, no plan alike', nova_unalike,
                       mq_unalike, args)
        # A guest's NICs share one plan; Nova works out each NIC's queues
        # on its own.  Per NIC, in an 8-NIC guest:
        nics8 = [OVS] * 8

        def mq_guest8():
            plan = nova_mq.plan_guest(vcpus, specs, {}, 'kvm', HOST, None,
                                      nics8)
            return ''.join([render(nic) for nic in plan.nics])
        name = 'plan+emit per NIC, 8-NIC guest'
        check_same_xml(name, nova_ovs() * 8, mq_guest8())
        report(name, best(nova_ovs, args.number // 4, args.repeat),
               best(mq_guest8, args.number // 8, args.repeat) / 8)
        for count in (1, 8, 64):
            nics = [OVS] * count

            def nova_plan():
                return [driver._get_virtio_mq_settings(image_meta, flavor)
                        for _ in range(count)]

            def mq_plan():
                return nova_mq.plan_guest(vcpus, specs, {}, 'kvm', HOST,
                                          None, nics)
            n = max(10, args.number // count)
            report('plan only, %d NICs' % count,
                   best(nova_plan, max(10, n // 4), args.repeat),
                   best(mq_plan, n, args.repeat))


# -- Realistic inputs: Neutron's ports in Nova's network info ---------------

#: The VIF kinds of the vif and guest sections, each as ML2 binds a port:
#: ML2/OVS with the openvswitch firewall, with the iptables_hybrid firewall
#: (the port sits on a qbr Linux bridge: Nova's <interface type="bridge">,
#: now that Nova refuses Linux bridge VIFs, vif_type=bridge), ML2/OVS-DPDK,
#: and a plain tap (networking-calico).
KINDS = ('ovs', 'bridge', 'vhostuser', 'tap')


def vif_details(kind, port_id):
    ovs = {'connectivity': 'l2', 'port_filter': True,
           'ovs_hybrid_plug': False, 'datapath_type': 'system',
           'bridge_name': 'br-int'}
    if kind == 'ovs':
        return ovs
    if kind == 'bridge':
        return dict(ovs, ovs_hybrid_plug=True)
    if kind == 'vhostuser':
        return dict(ovs, port_filter=False, datapath_type='netdev',
                    vhostuser_mode='server', vhostuser_ovs_plug=True,
                    vhostuser_socket='/var/run/openvswitch/vhu' +
                    port_id[:11])
    return {'port_filter': True}


def neutron_vif(kind, index, network_id):
    """A VIF as Nova's Neutron API code builds it from a bound port."""
    port_id = str(uuid.uuid4())
    ip = network_model.FixedIP(address='10.0.%d.%d' % divmod(index + 10,
                                                             256))
    ip6 = network_model.FixedIP(address='fd00:0:0:1::%x' % (index + 10))
    subnets = [
        network_model.Subnet(
            cidr='10.0.0.0/16', enable_dhcp=True, dhcp_server='10.0.0.2',
            gateway=network_model.IP(address='10.0.0.1', type='gateway'),
            dns=[network_model.IP(address='10.0.0.2', type='dns')],
            ips=[ip], routes=[]),
        network_model.Subnet(
            cidr='fd00:0:0:1::/64', enable_dhcp=False,
            ipv6_address_mode='slaac',
            gateway=network_model.IP(address='fd00:0:0:1::1',
                                     type='gateway'),
            dns=[], ips=[ip6], routes=[]),
    ]
    ovs_plugged = kind in ('ovs', 'bridge', 'vhostuser')
    network = network_model.Network(
        id=network_id, bridge='br-int' if ovs_plugged else None,
        injected=False, label='private', tenant_id='demo',
        mtu=1450, physical_network=None, tunneled=True, subnets=subnets)
    devname = ('vhu' if kind == 'vhostuser' else 'tap') + port_id[:11]
    return network_model.VIF(
        id=port_id,
        address='fa:16:3e:%02x:%02x:%02x' % (index >> 16 & 255,
                                             index >> 8 & 255, index & 255),
        network=network, vnic_type=network_model.VNIC_TYPE_NORMAL,
        type='vhostuser' if kind == 'vhostuser' else (
            'tap' if kind == 'tap' else 'ovs'),
        profile={}, details=vif_details(kind, port_id),
        ovs_interfaceid=port_id if ovs_plugged else None,
        devname=devname, active=True, preserve_on_delete=False,
        delegate_create=True)


def network_info(count, first_kind=0):
    """count VIFs, the kinds taken in turn."""
    network_id = str(uuid.uuid4())
    return network_model.NetworkInfo(
        neutron_vif(KINDS[(first_kind + i) % len(KINDS)], i, network_id)
        for i in range(count))


def make_flavor():
    return objects.Flavor(
        id=2, flavorid='m1.mq', name='m1.mq', vcpus=VCPUS, memory_mb=4096,
        root_gb=20, ephemeral_gb=0, swap=0, rxtx_factor=1.0,
        vcpu_weight=None, extra_specs=dict(SPECS))


def make_image_meta():
    return objects.ImageMeta.from_dict({
        'id': str(uuid.uuid4()), 'name': 'ubuntu-24.04', 'status': 'active',
        'disk_format': 'qcow2', 'container_format': 'bare',
        'min_ram': 0, 'min_disk': 0, 'size': 600 * 1024 * 1024,
        'properties': {}})


def make_instance(flavor, image_meta, nw_info):
    """A booting instance, as Nova's libvirt driver tests build one."""
    return objects.Instance(
        id=1, uuid=str(uuid.uuid4()), display_name='web-1',
        project_id='demo', user_id='demo-user', image_ref=image_meta.id,
        system_metadata={'image_base_image_ref': image_meta.id,
                         'image_disk_format': 'qcow2'},
        flavor=flavor, instance_type_id=flavor.id, old_flavor=None,
        new_flavor=None, memory_mb=flavor.memory_mb, vcpus=flavor.vcpus,
        root_gb=flavor.root_gb, ephemeral_gb=flavor.ephemeral_gb,
        pci_devices=objects.PciDeviceList(), numa_topology=None,
        config_drive=None, vm_mode=None, vm_state='building',
        task_state='spawning', kernel_id=None, ramdisk_id=None,
        os_type='linux', ephemeral_key_uuid=None, vcpu_model=None,
        host='compute-1', node='compute-1', trusted_certs=None,
        resources=None, migration_context=None, cleaned=False,
        info_cache=objects.InstanceInfoCache(network_info=nw_info))


# -- Section vif: get_config(...).to_xml() per VIF kind ----------------------

def where_the_time_goes(nova_drv, mq_drv, call, total_s, rounds):
    """nova-mq's get_config(...).to_xml() in parts, seconds per call.

    The plan nova-mq makes at Nova's queue seam (the shim reading Nova's
    objects into plain values, with the engine call it makes), and the
    rest: Nova's own get_config and to_xml code.  Last, what stock Nova
    spends at that seam (_get_virtio_mq_settings), which nova-mq's plan
    replaces.
    """
    instance, vif, image_meta, flavor, virt_type = call
    with mock.patch.object(nova_mq, 'plan_guest',
                           wraps=nova_mq.plan_guest) as spy:
        mq_drv.plan_guest(*call, model='virtio')
    engine_args, engine_kwargs = spy.call_args
    plan_s = best_auto(lambda: mq_drv.plan_guest(*call, model='virtio'),
                       rounds)
    engine_s = best_auto(lambda: nova_mq.plan_guest(*engine_args,
                                                    **engine_kwargs), rounds)
    seam_s = best_auto(lambda: nova_drv._get_virtio_mq_settings(
        image_meta, flavor), rounds)
    return (total_s, total_s - plan_s, plan_s - engine_s, engine_s, seam_s)


def print_where_the_time_goes(rows):
    print('where nova-mq\'s get_config(...).to_xml() spends its time, us '
          'per call:')
    print('  %-10s %7s %14s %11s %7s %13s'
          % ('VIF', 'total', "Nova's code", 'plan: shim', 'engine',
             "Nova's seam"))
    for name, row in rows:
        print('  %-10s %7.1f %14.1f %11.1f %7.1f %13.1f'
              % ((name,) + tuple(x * 1e6 for x in row)))
    print('  Nova\'s seam: stock Nova\'s _get_virtio_mq_settings(), which '
          'the plan replaces')


def vif_section(args):
    print('-- vif: get_config(...).to_xml(), one-NIC guest, '
          'stock LibvirtGenericVIFDriver vs MultiqueueVIFDriver')
    os_vif.initialize()
    flavor = make_flavor()
    image_meta = make_image_meta()
    nova_drv = nova_vif.LibvirtGenericVIFDriver()
    mq_drv = mq_vif.MultiqueueVIFDriver()
    rows = []
    for kind_index, name in enumerate(KINDS):
        nw_info = network_info(1, kind_index)
        call = (make_instance(flavor, image_meta, nw_info), nw_info[0],
                image_meta, flavor, 'kvm')

        def nova_fn():
            return nova_drv.get_config(*call).to_xml()

        def mq_fn():
            return mq_drv.get_config(*call).to_xml()
        with planned_by_nova_mq(name):
            check_same_xml(name, nova_fn(), mq_fn())
        nova_s, mq_s = best_pair(nova_fn, mq_fn, args.rounds)
        report_ratio('get_config().to_xml() (%s)' % name, nova_s, mq_s)
        rows.append((name, where_the_time_goes(
            nova_drv, mq_drv, call, mq_s, max(5, args.rounds // 4))))
    print_where_the_time_goes(rows)


# -- Section guest: _get_guest_config(...).to_xml() ---------------------------

@contextlib.contextmanager
def guest_drivers():
    """Stock and nova-mq LibvirtDrivers on Nova's fake libvirt, and guests.

    Yields ``(nova_drv, mq_drv, control_drv, guest)``: a second stock driver
    for the control line, and ``guest(count)``, which returns the
    ``_get_guest_config`` arguments of a guest of ``count`` NICs.
    """
    try:
        from nova.tests import fixtures as nova_fixtures
    except ImportError as exc:
        raise SystemExit('the guest section runs on Nova\'s fake libvirt, '
                         'nova.tests.fixtures, which needs Nova\'s test '
                         'requirements testtools and wsgi-intercept: %s'
                         % exc)
    from nova.virt import fake
    from nova.virt.libvirt import blockinfo
    from nova.virt.libvirt import driver as nova_driver

    from nova_mq import driver as mq_driver

    with contextlib.ExitStack() as stack:
        # What Nova's LibvirtConnTestCase sets up.
        conf = stack.enter_context(nova_fixtures.ConfFixture(CONF))
        conf.config(instances_path=stack.enter_context(
            tempfile.TemporaryDirectory()))
        stack.enter_context(nova_fixtures.LibvirtFixture())
        stack.enter_context(nova_fixtures.CGroupsFixture())
        # The fixture's os.uname is a MagicMock (~5 us a call; Nova calls it
        # per NIC, nova-mq per guest): a plain function, same answer.
        uname = os.uname()
        stack.enter_context(mock.patch('os.uname', new=lambda: uname))

        nova_drv = nova_driver.LibvirtDriver(fake.FakeVirtAPI(), True)
        mq_drv = mq_driver.MultiqueueLibvirtDriver(fake.FakeVirtAPI(), True)
        # A second stock driver: stock against stock is the noise floor of
        # the ratios below.  Two drivers of one class, timed alike, differ
        # by a few percent on a busy two-vCPU VM: a ratio within that of
        # 1.00 says nothing either way.
        control_drv = nova_driver.LibvirtDriver(fake.FakeVirtAPI(), True)
        flavor = make_flavor()

        def guest(count):
            nw_info = network_info(count)
            image_meta = make_image_meta()
            instance = make_instance(flavor, image_meta, nw_info)
            disk_info = blockinfo.get_disk_info(CONF.libvirt.virt_type,
                                                instance, image_meta)
            return instance, nw_info, image_meta, disk_info

        yield nova_drv, mq_drv, control_drv, guest


def guest_section(args):
    print('-- guest: _get_guest_config(...).to_xml(), NICs of the four '
          'kinds in turn, stock LibvirtDriver vs MultiqueueLibvirtDriver')
    with guest_drivers() as (nova_drv, mq_drv, control_drv, guest):
        for count in args.nics:
            guest_args = guest(count)

            def nova_fn(drv=nova_drv):
                return drv._get_guest_config(*guest_args)

            def mq_fn(drv=mq_drv):
                return drv._get_guest_config(*guest_args)
            name = '%d NICs' % count
            # The first call sets the image's hw_machine_type (a guest's
            # later calls see it), so both are compared after one; the
            # domain's <nova:creationTime> is the clock's.
            nova_fn()
            mq_fn()
            with mock.patch('time.time', return_value=1767225600.0):
                nova_xml = nova_fn().to_xml()
                with planned_by_nova_mq(name):
                    mq_cfg = mq_fn()
            check_same_xml(name, nova_xml, mq_cfg.to_xml())
            nova_s, mq_s = best_pair(lambda: nova_fn().to_xml(),
                                     lambda: mq_fn().to_xml(), args.rounds)
            report_ratio('_get_guest_config().to_xml() %2d NIC%s'
                         % (count, 's' if count > 1 else ''), nova_s, mq_s)
            if count == args.nics[0]:
                first_args = guest_args
                nova_s, control_s = best_pair(
                    lambda: nova_fn().to_xml(),
                    lambda: nova_fn(control_drv).to_xml(), args.rounds)
                print('%-34s stock %8.1f us  stock #2 %8.1f us  ratio %.3f'
                      % ('  control: noise floor', nova_s * 1e6,
                         control_s * 1e6, control_s / nova_s))
        count = args.nics[0]
        with nova_debug_logging():
            nova_s, mq_s = best_pair(
                lambda: nova_drv._get_guest_config(*first_args).to_xml(),
                lambda: mq_drv._get_guest_config(*first_args).to_xml(),
                args.rounds)
        report_ratio('  %d NIC%s, Nova\'s debug log on'
                     % (count, 's' if count > 1 else ''), nova_s, mq_s)


@contextlib.contextmanager
def nova_debug_logging():
    """Nova's and nova-mq's loggers at debug level (``debug = True``),
    their records made and dropped."""
    loggers = [logging.getLogger(name) for name in ('nova', 'nova_mq')]
    saved = [(logger.level, logger.propagate) for logger in loggers]
    handler = logging.NullHandler()
    for logger in loggers:
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)
        logger.propagate = False
    try:
        if not (nova_vif.LOG.isEnabledFor(logging.DEBUG) and
                mq_vif.LOG.isEnabledFor(logging.DEBUG)):
            raise SystemExit('the vif modules do not log at debug level '
                             'under the "nova" and "nova_mq" loggers')
        yield
    finally:
        for logger, (level, propagate) in zip(loggers, saved):
            logger.removeHandler(handler)
            logger.setLevel(level)
            logger.propagate = propagate


# -- Section footprint: the guest build under cachegrind ---------------------

#: What cachegrind counts, by its summary line's name.
FOOTPRINT_EVENTS = (('I   refs', 'instructions'),
                    ('I1  misses', 'L1 instruction misses'),
                    ('D1  misses', 'L1 data misses'),
                    ('LLi misses', 'L2 instruction misses'),
                    ('LLd misses', 'L2 data misses'))


def cache_geometry(level=2):
    """cachegrind's ``size,ways,line`` for this CPU's cache ``level``.

    Read from sysfs; 1 MB, 16-way, 64-byte lines where it is missing or
    is not one cachegrind can simulate (a power-of-two number of sets).
    """
    base = '/sys/devices/system/cpu/cpu0/cache'
    try:
        for index in sorted(os.listdir(base)):
            def read(name):
                with open(os.path.join(base, index, name)) as f:
                    return f.read().strip()
            if (read('level') == str(level) and
                    read('type') in ('Unified', 'Data')):
                size = read('size')
                size = int(size[:-1]) * 1024 if size.endswith('K') else \
                    int(size)
                ways = int(read('ways_of_associativity'))
                line = int(read('coherency_line_size'))
                sets = size // (ways * line)
                if sets and not sets & (sets - 1):
                    return '%d,%d,%d' % (size, ways, line)
    except (OSError, ValueError):
        pass
    return '1048576,16,64'


def footprint_child(spec):
    """Build one guest ``count`` times with one side's driver (a child)."""
    side, count, nics = spec.split(',')
    with guest_drivers() as (nova_drv, mq_drv, _, guest):
        drv = nova_drv if side == 'nova' else mq_drv
        guest_args = guest(int(nics))
        # Five more than counted: the first builds set up what later ones
        # reuse; the start-up run does them too, so they cancel out.
        for _ in range(5 + int(count)):
            drv._get_guest_config(*guest_args).to_xml()


def cachegrind_counts(side, count, nics, llc):
    """Start a child under cachegrind; returns a function for its counts."""
    with tempfile.NamedTemporaryFile(prefix='nova-mq-cg-') as out:
        name = out.name
    cmd = ['valgrind', '--tool=cachegrind', '--cache-sim=yes',
           '--I1=32768,8,64', '--D1=32768,8,64', '--LL=' + llc,
           '--cachegrind-out-file=' + name, sys.executable,
           os.path.abspath(__file__),
           '--footprint-child', '%s,%d,%d' % (side, count, nics)]
    # One hash seed: the same dicts, the same work, run after run.
    env = dict(os.environ, PYTHONHASHSEED='0')
    child = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, text=True)

    def counts():
        _, err = child.communicate()
        if os.path.exists(name):
            os.unlink(name)
        if child.returncode:
            raise SystemExit('cachegrind run %s failed (%d):\n%s'
                             % (' '.join(cmd), child.returncode, err))
        found = {}
        for line in err.splitlines():
            for key, _ in FOOTPRINT_EVENTS:
                if key + ':' in line:
                    found[key] = int(line.split(':')[1].split()[0]
                                     .replace(',', ''))
        missing = [key for key, _ in FOOTPRINT_EVENTS if key not in found]
        if missing:
            raise SystemExit('cachegrind printed no %s:\n%s'
                             % (', '.join(missing), err))
        return found
    return counts


def footprint_section(args):
    """Per guest build: instructions and simulated cache misses, both sides.

    Each side builds the guest 0 and ``--footprint-guests`` times in its own
    process under cachegrind; the difference, divided by the count, is one
    guest build with the interpreter's start-up taken out.  cachegrind
    simulates two levels: L1 (32 KB, 8-way) and a last level given this
    CPU's L2 geometry, so its "LL" misses are what would go beyond L2.
    """
    if shutil.which('valgrind') is None:
        raise SystemExit('the footprint section needs valgrind '
                         '(tools/install-deps.sh installs it)')
    llc = cache_geometry()
    count = args.footprint_guests
    nics = args.nics[0]
    print('-- footprint: one _get_guest_config(...).to_xml() of %d NIC%s '
          'under cachegrind (L1 32 KB 8-way; L2 %s), per guest, from %d '
          'builds' % (nics, 's' if nics > 1 else '', llc, count))
    per_guest = {}
    for side in ('nova', 'nova-mq'):
        # Two at a time: the bench's machine may have two CPUs.
        runs = [cachegrind_counts(side, n, nics, llc) for n in (0, count)]
        start, built = [run() for run in runs]
        per_guest[side] = {key: (built[key] - start[key]) / count
                           for key in start}
        per_guest[side]['L2'] = (per_guest[side]['LLi misses'] +
                                 per_guest[side]['LLd misses'])
    for key, label in FOOTPRINT_EVENTS + (('L2', 'L2 misses, all'),):
        nova_n, mq_n = per_guest['nova'][key], per_guest['nova-mq'][key]
        print('%-34s stock %11.0f  nova-mq %11.0f  ratio %.3f'
              % (label, nova_n, mq_n, mq_n / nova_n if nova_n else 0.0))


# -- Section startup: what nova_mq.pth costs a Python that is not nova-compute

#: What nova-mq may cost a process of its environment that never builds
#: Nova's libvirt driver (nova-api, pip, a plain ``python -c pass``).
STARTUP_GOAL_S = 0.1e-3
#: The processes whose start-up is costed, and what the child that lists
#: their imports runs (startup_imports).
STARTUP_PROCESSES = (('python -c pass', None),
                     ('pip list', 'pip'),
                     ('nova-api, its router', 'nova-api'))


def startup_imports(what, out):
    """A child: the imports a process makes, as JSON in the file out.

    ``names``: each module it imports, in order, with the ``__path__`` the
    import machinery searched (the parent package's; None at the top);
    ``entries``: the path entries it adds to sys.path_importer_cache, each
    of which went through sys.path_hooks once.
    """
    import json
    import runpy
    import sys
    modules = set(sys.modules)
    entries = set(sys.path_importer_cache)
    if what == 'pip':
        sys.argv = ['pip', 'list']
        try:
            runpy.run_module('pip', run_name='__main__', alter_sys=True)
        except SystemExit:
            pass
    elif what == 'nova-api':
        import nova.api.openstack.compute.routes  # noqa: F401
        import nova.api.openstack.wsgi_app  # noqa: F401
    names = []
    for name in list(sys.modules):
        if name in modules:
            continue
        parent = sys.modules.get(name.rpartition('.')[0])
        path = getattr(parent, '__path__', None) if '.' in name else None
        names.append([name, None if path is None else list(path)])
    with open(out, 'w') as f:
        json.dump({'names': names,
                   'entries': [entry for entry in sys.path_importer_cache
                               if entry not in entries]}, f)


def startup_child(sitedir, clock, rounds, imports_file):
    """A child started with ``-S``: times what nova_mq.pth adds.

    ``site.main()`` runs as at any start-up, every .pth of the environment
    but nova_mq.pth: that is the environment without nova-mq.  Then, each
    round from that state: ``site.addpackage()`` of nova_mq.pth as often as
    site.main() would have called it (twice in a 3.11 venv, whose
    site-packages site reads twice), as site processes it: reading it,
    running its line, and whatever that imports, found on sys.path as at
    start-up.  Then the import machinery's two
    places that see what the line leaves: every import asks each
    sys.meta_path finder (timed as importlib's ``_find_spec`` asks one, for
    the imports of imports_file), and every new path entry goes through
    sys.path_hooks (``PathFinder._path_hooks``, for its entries).  Prints
    seconds as JSON: best of rounds, nova-mq's and stock's side alternating.
    """
    import importlib._bootstrap as bootstrap
    import importlib._bootstrap_external as external
    import json
    import site
    import sys
    import time
    timer = time.process_time if clock == 'cpu' else time.perf_counter
    rounds = int(rounds)
    addpackage = site.addpackage

    calls = []

    def without_nova_mq(path, name, known_paths):
        if name == 'nova_mq.pth':
            calls.append(path)
            return known_paths
        return addpackage(path, name, known_paths)
    site.addpackage = without_nova_mq
    site.main()
    site.addpackage = addpackage
    calls = calls or [sitedir]
    stock = (list(sys.meta_path), list(sys.path_hooks), set(sys.modules))

    def reset():
        sys.meta_path[:], sys.path_hooks[:] = stock[0], stock[1]
        for name in set(sys.modules) - stock[2]:
            del sys.modules[name]

    def pth():
        reset()
        start = timer()
        for path in calls:
            addpackage(path, 'nova_mq.pth', set())
        return timer() - start

    pth()  # warm up: the files are read from the page cache, as usual
    pth_s = min(pth() for _ in range(rounds * 20))
    reset()
    for path in calls:
        addpackage(path, 'nova_mq.pth', set())
    hooked = (list(sys.meta_path), list(sys.path_hooks))
    added = [f for f in hooked[0] if all(f is not g for g in stock[0])]
    with open(imports_file) as f:
        imports = json.load(f)
    names = [(name, path) for name, path in imports['names']]
    entries = imports['entries']

    def ask_finders(finders):
        lock = bootstrap._ImportLockContext
        start = timer()
        for name, path in names:
            for finder in finders:
                with lock():
                    find_spec = finder.find_spec
                    find_spec(name, path, None)
        return timer() - start

    def run_path_hooks(hooks, entry):
        sys.path_hooks[:] = hooks
        start = time.perf_counter()
        try:
            external.PathFinder._path_hooks(entry)
        except ImportError:
            pass
        return time.perf_counter() - start

    runs = {'finders': [], 'stock finders': []}
    for i in range(rounds):
        sides = ((added, 'finders'), ([], 'stock finders'))
        for finders, key in sides[::1 if i % 2 else -1]:
            runs[key].append(ask_finders(finders))
    best = {key: min(times) for key, times in runs.items()}
    # A path entry's hooks take microseconds, most of it stat calls: the
    # best of each entry's calls (the clock's own cost is on both sides).
    best['hooks'] = best['stock hooks'] = 0.0
    for entry in entries:
        times = {'hooks': [], 'stock hooks': []}
        for i in range(rounds):
            sides = ((hooked[1], 'hooks'), (stock[1], 'stock hooks'))
            for hooks, key in sides[::1 if i % 2 else -1]:
                times[key].append(run_path_hooks(hooks, entry))
        for key, entry_times in times.items():
            best[key] += min(entry_times)
    sys.path_hooks[:] = hooked[1]
    print(json.dumps({
        'pth': pth_s,
        'pth_runs': len(calls),
        'meta_path_added': len(added),
        'path_hooks_added': len(hooked[1]) - len(stock[1]),
        'per_import': (best['finders'] - best['stock finders']) /
        max(1, len(names)),
        'per_entry': (best['hooks'] - best['stock hooks']) /
        max(1, len(entries)),
    }))


def startup_run_child(func, *args, site=False, env=None):
    """Run func(*args) from its source in a fresh Python; its stdout.

    Without site: ``python -S`` (func runs site.main() itself).
    """
    import inspect
    code = '%s\n%s(*__import__("sys").argv[1:])\n' % (
        inspect.getsource(func), func.__name__)
    result = subprocess.run([sys.executable] + ([] if site else ['-S']) +
                            ['-c', code] + [str(arg) for arg in args],
                            text=True, capture_output=True, env=env)
    if result.returncode:
        raise SystemExit('%s failed (%d):\n%s' % (
            func.__name__, result.returncode, result.stderr))
    return result.stdout


def startup_workload(what):
    """{'names': [...], 'entries': [...]} of one process (empty for None)."""
    import json
    if what is None:
        return {'names': [], 'entries': []}
    with tempfile.NamedTemporaryFile('r', prefix='nova-mq-imports-') as out:
        # A start-up as any (site, every .pth), then the process's imports.
        startup_run_child(startup_imports, what, out.name, site=True,
                          env=dict(os.environ, PYTHONWARNINGS='ignore',
                                   PIP_DISABLE_PIP_VERSION_CHECK='1',
                                   PIP_NO_INPUT='1'))
        return json.load(out)


def startup_section(args):
    """Per process: site's processing of nova_mq.pth, then its hook's cost
    on every later import, for processes that never build Nova's libvirt
    driver, against the same environment without nova-mq."""
    import json
    sitedirs = [path for path in sys.path
                if os.path.isfile(os.path.join(path, 'nova_mq.pth'))]
    if not sitedirs:
        raise SystemExit('the startup section needs nova-mq installed: no '
                         'nova_mq.pth on sys.path')
    print('-- startup: what nova_mq.pth costs a process that never builds '
          'the libvirt driver (goal: under %.1f ms)' % (STARTUP_GOAL_S * 1e3))
    rounds = max(5, args.rounds // 2)
    for name, what in STARTUP_PROCESSES:
        workload = startup_workload(what)
        with tempfile.NamedTemporaryFile('w', prefix='nova-mq-imports-') as f:
            json.dump(workload, f)
            f.flush()
            cost = json.loads(startup_run_child(
                startup_child, sitedirs[0], args.clock, rounds, f.name))
        if what is None:
            print('%-34s %7.1f us  (read by site %d time%s; finders added '
                  'to sys.meta_path: %d, path hooks added: %d)' % (
                      'site: nova_mq.pth, its line', cost['pth'] * 1e6,
                      cost['pth_runs'], 's' if cost['pth_runs'] > 1 else '',
                      cost['meta_path_added'], cost['path_hooks_added']))
        imports = len(workload['names'])
        entries = len(workload['entries'])
        # What the hook saves is not counted against what it costs.
        total = (cost['pth'] + imports * max(0.0, cost['per_import']) +
                 entries * max(0.0, cost['per_entry']))
        print('%-22s %5d imports x %6.3f us, %4d path entries x %6.3f us: '
              '%.3f ms  %s' % (
                  name, imports, cost['per_import'] * 1e6, entries,
                  cost['per_entry'] * 1e6, total * 1e3,
                  'under the goal' if total < STARTUP_GOAL_S else
                  'OVER the goal'))


# -- audit: nova-mq audit over many domain XML files --------------------------

#: A domain as nova-compute defines it (disks, controllers, Nova's
#: metadata), with %(ifaces)s for its interfaces.
AUDIT_DOMAIN = """<domain type="kvm">
  <uuid>%(uuid)s</uuid>
  <name>instance-%(index)08x</name>
  <memory>4194304</memory>
  <vcpu>%(vcpus)d</vcpu>
  <metadata>
    <nova:instance xmlns:nova="http://openstack.org/xmlns/libvirt/nova/1.1">
      <nova:package version="34.0.0"/>
      <nova:name>vm-%(index)d</nova:name>
      <nova:creationTime>2026-12-01 10:00:00</nova:creationTime>
      <nova:flavor name="m1.mq%(vcpus)d">
        <nova:memory>4096</nova:memory>
        <nova:disk>40</nova:disk>
        <nova:swap>0</nova:swap>
        <nova:ephemeral>0</nova:ephemeral>
        <nova:vcpus>%(vcpus)d</nova:vcpus>
      </nova:flavor>
      <nova:owner>
        <nova:user uuid="3c5b1d6e9f0a4b7c8d2e1f0a9b8c7d6e">admin</nova:user>
        <nova:project uuid="7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c2b">d</nova:project>
      </nova:owner>
      <nova:root type="image" uuid="1f2e3d4c-5b6a-4978-8d7c-6b5a4f3e2d1c"/>
    </nova:instance>
  </metadata>
  <sysinfo type="smbios">
    <system>
      <entry name="manufacturer">OpenStack Foundation</entry>
      <entry name="product">OpenStack Nova</entry>
      <entry name="serial">%(uuid)s</entry>
      <entry name="uuid">%(uuid)s</entry>
      <entry name="family">Virtual Machine</entry>
    </system>
  </sysinfo>
  <os>
    <type machine="q35">hvm</type>
    <boot dev="hd"/>
    <smbios mode="sysinfo"/>
  </os>
  <features>
    <acpi/>
    <apic/>
    <vmcoreinfo/>
  </features>
  <cputune>
    <shares>%(shares)d</shares>
  </cputune>
  <clock offset="utc">
    <timer name="pit" tickpolicy="delay"/>
    <timer name="rtc" tickpolicy="catchup"/>
    <timer name="hpet" present="no"/>
  </clock>
  <cpu mode="host-model" match="exact">
    <topology sockets="%(vcpus)d" cores="1" threads="1"/>
  </cpu>
  <devices>
    <disk type="file" device="disk">
      <driver name="qemu" type="qcow2" cache="none"/>
      <source file="/var/lib/nova/instances/%(uuid)s/disk"/>
      <target dev="vda" bus="virtio"/>
    </disk>
    <controller type="usb" index="0"/>
%(ifaces)s
    <serial type="pty">
      <log file="/var/lib/nova/instances/%(uuid)s/console.log" append="off"/>
    </serial>
    <input type="tablet" bus="usb"/>
    <graphics type="vnc" autoport="yes" listen="0.0.0.0"/>
    <video>
      <model type="virtio"/>
    </video>
    <memballoon model="virtio">
      <stats period="10"/>
    </memballoon>
  </devices>
</domain>
"""
AUDIT_IFACE = """    <interface type="%(type)s">
      <mac address="fa:16:3e:%(a)02x:%(b)02x:%(c)02x"/>
      <model type="%(model)s"/>%(driver)s
      <source bridge="br-int"/>
      <mtu size="1450"/>
      <target dev="tap%(uuid8)s-%(c)02x"/>
    </interface>"""


#: The issue's goal for the parse-and-check step: this many times lxml's.
AUDIT_GOAL = 10


def audit_domains(count):
    """count domain XMLs (bytes): 1 to 4 NICs, mixed queues and models,
    some misconfigured (queues above vCPUs, on qemu, on e1000)."""
    docs = []
    for i in range(count):
        vcpus = (1, 2, 4, 8, 16)[i % 5]
        dom_uuid = str(uuid.UUID(int=i + 1))
        ifaces = []
        for n in range(1 + i % 4):
            queues = (None, vcpus, 4, 32)[(i + n) % 4]
            driver = ('' if queues is None else
                      '\n      <driver name="%s" queues="%d"/>'
                      % ('qemu' if (i + n) % 7 == 0 else 'vhost', queues))
            ifaces.append(AUDIT_IFACE % {
                'type': 'bridge', 'a': i >> 16 & 255, 'b': i >> 8 & 255,
                'c': (i + n) & 255, 'uuid8': dom_uuid[:8], 'driver': driver,
                'model': 'e1000' if (i + n) % 11 == 0 else 'virtio'})
        docs.append((AUDIT_DOMAIN % {
            'uuid': dom_uuid, 'index': i, 'vcpus': vcpus,
            'shares': 1024 * vcpus,
            'ifaces': '\n'.join(ifaces)}).encode())
    return docs


def lxml_parse_domain(data, _parser=[]):
    """The straightforward reader: lxml, with entities and the network off,
    and XPath; the same dict as nova_mq.parse_domain for what the audit
    reads."""
    from lxml import etree
    if not _parser:
        _parser.append(etree.XMLParser(resolve_entities=False,
                                       no_network=True, huge_tree=False))
    root = etree.fromstring(data, _parser[0])
    if root.tag != 'domain':
        raise ValueError('not a domain')
    ifaces = []
    for iface in root.xpath('/domain/devices/interface'):
        queues = iface.xpath('string(driver/@queues)')
        ifaces.append({
            'type': iface.get('type'),
            'mac': iface.xpath('string(mac/@address)') or None,
            'model': iface.xpath('string(model/@type)') or None,
            'driver': iface.xpath('string(driver/@name)') or None,
            'queues': int(queues) if queues else None})
    return {'name': root.xpath('string(/domain/name)'),
            'vcpus': int(root.xpath('string(/domain/vcpu)')),
            'interfaces': ifaces}


def audit_section(args):
    from nova_mq import cli
    from nova_mq.cli import audit as cli_audit
    from nova_mq.cli import common as cli_common
    count = args.audit_files
    print('-- audit: nova-mq audit of %d domain XML files' % count)
    docs = audit_domains(count)
    tmp = tempfile.mkdtemp(prefix='nova-mq-bench-audit-')
    try:
        for i, data in enumerate(docs):
            with open(os.path.join(tmp, 'instance-%08x.xml' % i), 'wb') as f:
                f.write(data)
        conf = os.path.join(tmp, 'nova.conf')
        with open(conf, 'w') as f:
            f.write('[DEFAULT]\n')
        cli_common.load_config(argparse.Namespace(config_file=[conf],
                                                  config_dir=[]))
        limits = cli_audit.host_limits()

        def mq_check(data):
            return cli_audit.check_domain(nova_mq.parse_domain(data), limits)

        def lxml_check(data):
            return cli_audit.check_domain(lxml_parse_domain(data), limits)
        for data in docs[:200]:
            if mq_check(data) != lxml_check(data):
                raise AssertionError('lxml and nova-mq read %r differently'
                                     % data[:200])

        def run_all(check):
            return lambda: [check(data) for data in docs]
        lxml_s, mq_s = best_pair(run_all(lxml_check), run_all(mq_check),
                                 max(3, args.rounds // 20))
        print('%-34s lxml %8.2f us  nova-mq %7.3f us  ratio %.3f  (%.1fx, '
              '%s the %dx goal)'
              % ('parse+check per file', lxml_s / count * 1e6,
                 mq_s / count * 1e6, mq_s / lxml_s, lxml_s / mq_s,
                 'meets' if lxml_s / mq_s >= AUDIT_GOAL else 'BELOW',
                 AUDIT_GOAL))
        bytes_total = sum(len(d) for d in docs)
        print('%-34s %d files of %.1f KiB on average'
              % ('domains', count, bytes_total / count / 1024))
        for label, argv in (('nova-mq audit DIR -f value', ('-f', 'value')),
                            ('nova-mq audit DIR (table)', ())):
            out = io.StringIO()
            app = cli.NovaMQApp(stdout=out, stderr=io.StringIO())
            start = TIMER()
            status = app.run(['--config-file', conf, 'audit', tmp] +
                             list(argv))
            took = TIMER() - start
            rows = out.getvalue().count('\n')
            print('%-34s %8.0f files/s  %.2f s for %d files, %d lines, '
                  'exit %d' % (label, count / took, took, count, rows,
                               status))
    finally:
        shutil.rmtree(tmp)


# -- main ---------------------------------------------------------------------

SECTIONS = {'engine': engine_section, 'vif': vif_section,
            'guest': guest_section, 'footprint': footprint_section,
            'startup': startup_section, 'audit': audit_section}
#: What runs without --sections: footprint takes minutes under valgrind.
DEFAULT_SECTIONS = ('engine', 'vif', 'guest', 'startup', 'audit')


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--number', type=int, default=20000,
                        help='engine section: calls per timing')
    parser.add_argument('--repeat', type=int, default=5,
                        help='engine section: timings, the best is kept')
    parser.add_argument('--rounds', type=int, default=100,
                        help='vif and guest sections: timings per side')
    parser.add_argument('--nics', default='1,8,64',
                        type=lambda s: [int(n) for n in s.split(',')],
                        help='guest section: NIC counts (default 1,8,64)')
    parser.add_argument('--sections', default=','.join(DEFAULT_SECTIONS),
                        type=lambda s: s.split(','),
                        help='which to run, of %s (default: %s)'
                        % (', '.join(SECTIONS), ','.join(DEFAULT_SECTIONS)))
    parser.add_argument('--footprint-guests', type=int, default=200,
                        help='footprint section: guest builds counted; the '
                        'start-up of two processes differs by some 30,000 '
                        'misses, so fewer builds are noisier')
    parser.add_argument('--footprint-child', help=argparse.SUPPRESS)
    parser.add_argument('--audit-files', type=int, default=10000,
                        help='audit section: domain XML files audited')
    parser.add_argument('--clock', choices=sorted(TIMERS), default='cpu',
                        help='cpu: this process\'s CPU time (default); '
                        'wall: elapsed time')
    args = parser.parse_args()
    if args.footprint_child:
        return footprint_child(args.footprint_child)
    global TIMER
    TIMER = TIMERS[args.clock]
    unknown = set(args.sections) - set(SECTIONS)
    if unknown:
        parser.error('unknown section(s): %s' % ', '.join(sorted(unknown)))
    print('nova-mq %s, Nova %s; ratio = nova-mq time / Nova time, same run'
          % (nova_mq.__version__, nova_version()))
    for name in SECTIONS:
        if name in args.sections:
            SECTIONS[name](args)


def nova_version():
    try:
        return metadata.version('nova')
    except metadata.PackageNotFoundError:
        return 'unknown'


if __name__ == '__main__':
    main()
