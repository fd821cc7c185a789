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
"""Shared by the unit tests (not a test module): interface and VIF data,
and the leak check every engine entry point uses."""

import gc
import os

from nova.network import model as network_model

#: The attributes each net type's <source> needs, with realistic values.
SOURCES = {
    'bridge': {'source_dev': 'qbr1234'},
    'ethernet': {},
    'direct': {'source_dev': 'enp3s0f1', 'source_mode': 'passthrough'},
    'vdpa': {'source_dev': '/dev/vhost-vdpa-0'},
    'hostdev': {'source_dev': '0000:81:00.2'},
    'vhostuser': {'vhostuser_type': 'unix', 'vhostuser_mode': 'server',
                  'vhostuser_path': '/var/run/openvswitch/vhu1234'},
    'network': {'source_dev': 'default'},
}
NET_TYPES = sorted(SOURCES)


def _rss_kib():
    with open('/proc/self/statm') as f:
        return int(f.read().split()[1]) * os.sysconf('SC_PAGE_SIZE') // 1024


def _under_asan():
    with open('/proc/self/maps') as f:
        return 'libasan' in f.read()


def assert_no_growth(churn, calls, rss_kib=2048, objects=100):
    """markupsafe's test_leak: churn(calls) keeps objects and RSS flat.

    A warm-up round comes first.  Under AddressSanitizer freed memory sits
    in its quarantine, so RSS measures the sanitizer, not the engine: there
    only the object count is asserted (ASan checks every access, and
    valgrind in tox -e ctest checks the C core for leaks).
    """
    churn(max(1, calls // 10))
    gc.collect()
    objects_before = len(gc.get_objects())
    rss_before = _rss_kib()
    churn(calls)
    gc.collect()
    assert len(gc.get_objects()) - objects_before < objects
    if not _under_asan():
        assert _rss_kib() - rss_before < rss_kib


def fill_template(value, n):
    """value with %(n)s (n as 8 hex digits) and %(f)s (n % 8, a PCI
    function) filled in, through nested dicts: one fake port of many."""
    if isinstance(value, str):
        return value % {'n': '%08x' % n, 'f': n % 8}
    if isinstance(value, dict):
        return {k: fill_template(v, n) for k, v in value.items()}
    return value


def qbg_kwargs(vif_type, instance_uuid):
    """network_model.VIF's extra keyword for an 802.1Qbg VIF, else none."""
    if vif_type != network_model.VIF_TYPE_802_QBG:
        return {}
    return {'qbg_params': network_model.VIF8021QbgParams(
        managerid='mgr', typeid='type', typeidversion='1',
        instanceid=instance_uuid)}
