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
"""The host's limits, proven on the real daemon: the kernel's 256 tap
queues, and the receive ring sizes QEMU accepts."""

import os

from lxml import etree
import pytest

import guestlib
from guestlib import NicSpec
import nova_mq
from nova_mq import exception

MQ_ON = {'hw:vif_multiqueue_enabled': 'true'}
NIC = {'vif_type': 'bridge', 'vnic_type': 'normal', 'model': 'virtio',
       'profile': {}}

#: The guests of these tests are only started, never booted to a report:
#: the tap and QEMU's device are what is being proven.
CMDLINE = guestlib.guest_cmdline(1)


def _driver(xml):
    driver = etree.fromstring(xml).find('driver')
    driver.tail = None
    return etree.tostring(driver).decode()


def _error(exc):
    return str(exc).replace('\n', ' ')


def test_257_queues_fail_and_nova_mq_256_start(guests, bridge):
    """A 257-vCPU flavor with multiqueue on, on a host kernel >= 5 with no
    [libvirt]max_queues: stock Nova writes queues='257' and libvirt cannot
    create the tap (the kernel allows 256 queues); nova-mq plans 256 for
    the same guest and it starts, with 256 tap queues open in QEMU.

    TCG cannot run more than 255 vCPUs (QEMU: "current -smp configuration
    requires kernel irqchip and X2APIC API support"), and the tap does not
    depend on the vCPUs, so the interface XML Nova writes for the 257-vCPU
    guest is put in a 2-vCPU domain.
    """
    release = os.uname().release
    nic = NicSpec(label='big')
    stock = guestlib.plan_interfaces(257, MQ_ON, [nic], bridge.name,
                                     stock=True)
    assert guestlib.interface_queues(stock.xml[0]) == 257, (
        'precondition: Nova sets no tap cap on kernel >= 5 without '
        '[libvirt]max_queues; host kernel %s, Nova wrote:\n%s'
        % (release, stock.xml[0]))
    planned = guestlib.plan_interfaces(257, MQ_ON, [nic], bridge.name)
    assert guestlib.interface_queues(planned.xml[0]) == 256
    print('\n    Nova writes    %s' % _driver(stock.xml[0]))
    print('    nova-mq writes %s (%s)' % (
        _driver(planned.xml[0]), ', '.join(planned.plan.nics[0].reasons)))

    libvirt = guests.libvirt
    name = guestlib.guest_name('nova-257q')
    _, xml = guests.xml(name, 2, stock.xml, CMDLINE)
    with pytest.raises(libvirt.libvirtError) as failed:
        guests.create(name, xml, paused=True, planned=stock)
    message = _error(failed.value)
    print('    stock Nova: %s' % message)
    assert 'Unable to create tap device %s' % nic.tap in message
    assert 'Argument list too long' in message
    if stock.vif_type == 'bridge':
        # libvirt removed the tap it could not finish.
        assert not os.path.exists('/sys/class/net/%s' % nic.tap)

    name = guestlib.guest_name('mq-256q')
    _, xml = guests.xml(name, 2, planned.xml, CMDLINE)
    try:
        dom = guests.create(name, xml, planned=planned)
    except libvirt.libvirtError as exc:
        pytest.fail('nova-mq\'s 256-queue guest did not start: %s'
                    % _error(exc))
    assert dom.isActive()
    fds = guestlib.tap_queue_fds(guestlib.qemu_pid(name), nic.tap)
    print('    nova-mq: started; QEMU holds %d queues of tap %s' % (
        fds, nic.tap))
    assert fds == 256
    guests.destroy(name)


@pytest.mark.parametrize('size', [128, 300, 2048])
def test_rx_queue_size_refused(guests, bridge, size):
    """rx_queue_size outside 256..1024 or not a power of two: libvirt
    (not a power of two) or QEMU (out of range) refuses the guest, and
    nova-mq never writes one: the engine refuses the option, and Nova's
    own [libvirt]rx_queue_size option refuses it before."""
    with pytest.raises(exception.InvalidMultiqueueValue) as refused:
        nova_mq.plan_guest(4, MQ_ON, {}, 'kvm', None,
                           {'rx_queue_size': size}, [NIC])
    assert 'rx_queue_size' in str(refused.value)
    assert str(size) in str(refused.value)
    import nova.conf
    with pytest.raises(ValueError):
        nova.conf.CONF.set_override('rx_queue_size', size, group='libvirt')
    nova.conf.CONF.clear_override('rx_queue_size', group='libvirt')

    # What a writer that does not check would give libvirt: nova-mq's
    # interface with the bad size put in.
    planned = guestlib.plan_interfaces(4, MQ_ON, [NicSpec()], bridge.name)
    iface = etree.fromstring(planned.xml[0])
    iface.find('driver').set('rx_queue_size', str(size))
    name = guestlib.guest_name('rx%d' % size)
    _, xml = guests.xml(name, 2, [etree.tostring(iface).decode()], CMDLINE)
    libvirt = guests.libvirt
    with pytest.raises(libvirt.libvirtError) as failed:
        guests.create(name, xml, paused=True, planned=planned)
    message = _error(failed.value)
    print('\n    rx_queue_size=%d: %s' % (size, message))
    assert 'rx_queue_size' in message


@pytest.mark.parametrize('size', [256, 512, 1024])
def test_rx_queue_size_accepted(guests, bridge, size):
    """The sizes Nova and nova-mq allow, written by Nova's driver with
    nova-mq on ([libvirt]rx_queue_size), start."""
    import nova.conf
    conf = nova.conf.CONF
    conf.set_override('rx_queue_size', size, group='libvirt')
    try:
        planned = guestlib.plan_interfaces(4, MQ_ON, [NicSpec()],
                                           bridge.name)
    finally:
        conf.clear_override('rx_queue_size', group='libvirt')
    driver = etree.fromstring(planned.xml[0]).find('driver')
    assert driver.get('rx_queue_size') == str(size), planned.xml[0]
    assert driver.get('queues') == '4'
    name = guestlib.guest_name('rx%d' % size)
    _, xml = guests.xml(name, 2, planned.xml, CMDLINE)
    try:
        dom = guests.create(name, xml, paused=True, planned=planned)
    except guests.libvirt.libvirtError as exc:
        pytest.fail('rx_queue_size=%d was refused: %s' % (size, _error(exc)))
    assert dom.isActive()
    guests.destroy(name)
