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
load on the machine makes them slower, not faster.  Nothing here asserts a
time: it measures and prints.

Nova's path for one NIC is what get_base_config() does for the queues,
_get_virtio_mq_settings(), plus LibvirtConfigGuestInterface.to_xml().
nova-mq's path is plan_guest() for the NIC plus render_interface().
"""

import argparse
import os
import timeit
from unittest import mock

from nova import objects
from nova.virt.libvirt import config as nova_config
from nova.virt.libvirt import vif as nova_vif

import nova_mq

objects.register_all()

HOST = {'kernel_release': os.uname().release}
MAC = 'fa:16:3e:12:34:56'
OVS = {'vif_type': 'ovs', 'vnic_type': 'normal', 'model': 'virtio'}


# One case per interface kind, each written as a caller writes it: the
# attributes set by name, on Nova's config object or as render's keywords.
def nova_attrs_ovs(conf):
    conf.net_type = 'ethernet'
    conf.target_dev = 'tap12345678-9a'
    conf.mtu = 1450


def mq_render_ovs(nic):
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
        mac_addr=MAC, model='virtio', driver_name=nic.driver,
        vhost_queues=nic.queues, net_type='bridge',
        source_dev='brq12345678-9a', target_dev='tap12345678-9a', mtu=1500)


def nova_attrs_vhostuser(conf):
    conf.net_type = 'vhostuser'
    conf.vhostuser_type = 'unix'
    conf.vhostuser_mode = 'server'
    conf.vhostuser_path = '/var/run/openvswitch/vhu12345678-9a'


def mq_render_vhostuser(nic):
    return nova_mq.render_interface(
        mac_addr=MAC, model='virtio', driver_name=nic.driver,
        vhost_queues=nic.queues, net_type='vhostuser',
        vhostuser_type='unix', vhostuser_mode='server',
        vhostuser_path='/var/run/openvswitch/vhu12345678-9a')


def nova_attrs_tap(conf):
    conf.net_type = 'ethernet'
    conf.target_dev = 'tap12345678-9a'
    conf.managed = 'no'
    conf.mtu = 1450


def mq_render_tap(nic):
    return nova_mq.render_interface(
        mac_addr=MAC, model='virtio', driver_name=nic.driver,
        vhost_queues=nic.queues, net_type='ethernet',
        target_dev='tap12345678-9a', managed='no', mtu=1450)


CASES = {
    'ovs': (nova_attrs_ovs, mq_render_ovs),
    'bridge': (nova_attrs_bridge, mq_render_bridge),
    'vhostuser': (nova_attrs_vhostuser, mq_render_vhostuser),
    'tap': (nova_attrs_tap, mq_render_tap),
}


def best(func, number, repeat):
    """Seconds per call: the best of repeat runs of number calls."""
    func()  # warm up: Nova builds some of its objects on first use
    return min(timeit.repeat(func, number=number, repeat=repeat)) / number


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


def report(name, nova_s, mq_s):
    print('%-34s nova %8.2f us  nova-mq %7.3f us  ratio %.3f  (%.0fx)'
          % (name, nova_s * 1e6, mq_s * 1e6, mq_s / nova_s, nova_s / mq_s))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--number', type=int, default=20000)
    parser.add_argument('--repeat', type=int, default=5)
    args = parser.parse_args()
    vcpus = 8
    specs = {'hw:vif_multiqueue_enabled': 'true'}
    flavor = objects.Flavor(vcpus=vcpus, extra_specs=specs, name='m1')
    image_meta = objects.ImageMeta.from_dict({'properties': {}})
    driver = nova_vif.LibvirtGenericVIFDriver()
    print('nova-mq %s; ratio = nova-mq time / Nova time, same run'
          % nova_mq.__version__)
    with mock.patch('os.uname', return_value=os.uname()):
        for name, (set_attrs, render) in CASES.items():
            if name == 'tap' and not hasattr(
                    nova_config.LibvirtConfigGuestInterface(), 'managed'):
                continue  # Zed writes no managed=; the case is not Zed's
            nova_fn = nova_one_nic(driver, flavor, image_meta, set_attrs)
            mq_fn = mq_one_nic(specs, {}, vcpus, render)
            if nova_fn() != mq_fn():
                raise SystemExit('%s: nova-mq and Nova wrote different XML'
                                 % name)
            report('plan+emit one NIC (%s)' % name,
                   best(nova_fn, args.number // 4, args.repeat),
                   best(mq_fn, args.number, args.repeat))
        # A compute node plans one guest's NICs on every get_config call:
        # with the guest read once (GuestPolicy), a call converts the NICs.
        for name, (set_attrs, render) in CASES.items():
            if name != 'ovs':
                continue
            policy = nova_mq.GuestPolicy(vcpus, specs, {}, 'kvm', HOST)
            nics1 = [OVS]

            def mq_policy_one():
                return render(policy.plan(nics1).nics[0])
            nova_fn = nova_one_nic(driver, flavor, image_meta, set_attrs)
            if nova_fn() != mq_policy_one():
                raise SystemExit('GuestPolicy: different XML')
            report('plan+emit one NIC, GuestPolicy',
                   best(nova_fn, args.number // 4, args.repeat),
                   best(mq_policy_one, args.number, args.repeat))
        # A guest's NICs share one plan; Nova works out each NIC's queues
        # on its own.  Per NIC, in an 8-NIC guest:
        set_attrs, render = CASES['ovs']
        nova_fn = nova_one_nic(driver, flavor, image_meta, set_attrs)
        nics8 = [OVS] * 8

        def mq_guest8():
            plan = nova_mq.plan_guest(vcpus, specs, {}, 'kvm', HOST, None,
                                      nics8)
            return [render(nic) for nic in plan.nics]
        report('plan+emit per NIC, 8-NIC guest',
               best(nova_fn, args.number // 4, args.repeat),
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


if __name__ == '__main__':
    main()
