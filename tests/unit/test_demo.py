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
"""The main job (python -m nova_mq demo) runs and says what it should."""

import re

from nova_mq import demo
from nova_mq import vif as mq_vif


def test_demo_plans_the_guest_through_novas_objects():
    lines = []
    try:
        assert demo.run(out=lines.append) == 0
    finally:
        mq_vif.CONF.clear_override('reserved_msi_vectors', 'nova_mq')
    text = '\n'.join(lines)
    rows = {m.group(1): (int(m.group(2)), int(m.group(3)))
            for m in re.finditer(r'^(\S+)\s+\S+\s+\d+\s+(\d+)\s+\d+\s+(\d+)',
                                 text, re.M)}
    # Budget 80 - 16 = 64.  Fixed by the plan: ovs-storage asks for 4
    # (2*4+2 = 10 vectors), two single-queue NICs (3 each), SR-IOV none.
    # The two 16-queue requests share 64 - 16 = 48: 2q+2 <= 24, q = 11.
    assert rows['ovs-storage'] == (4, 10)
    assert rows['ovs-data'] == (11, 24)
    assert rows['vhostuser-dpdk'] == (11, 24)
    assert rows['tap-mgmt'] == (1, 3) and rows['ovs-tenant'] == (1, 3)
    assert rows['sriov-direct'] == (1, 0)
    assert 'nova-mq 64 of 64' in text
    assert text.count("Nova's LibvirtConfigGuestInterface; nova-mq's C "
                      "emitter writes the same bytes") == 6
    assert text.count('<driver name="vhost" queues="11"/>') == 1


def test_driver_classes_are_exported_lazily():
    import subprocess
    import sys
    code = ('import sys, nova_mq\n'
            'assert "nova_mq.vif" not in sys.modules\n'
            'assert "nova_mq.driver" not in sys.modules\n'
            'from nova_mq import vif, driver\n'
            'assert nova_mq.MultiqueueVIFDriver is vif.MultiqueueVIFDriver\n'
            'assert nova_mq.MultiqueueLibvirtDriver is '
            'driver.MultiqueueLibvirtDriver\n'
            'try:\n'
            '    nova_mq.NoSuchThing\n'
            'except AttributeError as e:\n'
            '    assert "NoSuchThing" in str(e)\n'
            'else:\n'
            '    raise SystemExit("no AttributeError")\n'
            'print("ok")\n')
    out = subprocess.run([sys.executable, '-W', 'ignore', '-c', code],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().endswith('ok')
