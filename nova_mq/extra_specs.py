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
"""Validators for nova-mq's ``mq:`` flavor extra specs, for nova-api.

Loaded by Nova through the ``nova.api.extra_spec_validators`` entry point
(``mq = nova_mq.extra_specs``), as Nova loads its own ``hw:`` validators,
so ``openstack flavor set --property mq:throughput=fast`` (microversion
2.86 and later) is refused by nova-api with HTTP 400.  Registering the
``mq`` namespace also makes nova-api refuse an ``mq:`` key nova-mq does not
know (a typo such as ``mq:max_queue``).

The validators accept exactly what the engine (ext/policy.c) accepts, so
a flavor that passes nova-api never fails a boot on these keys: their
ranges and names are the engine's (``_engine.MAX_QUEUES``,
``MIN_MSI_VECTOR_BUDGET``, ``MAX_MSI_VECTOR_BUDGET``, ``THROUGHPUTS``), and
after Nova's own checks each value is read by the engine itself (a guest
planned with that one extra spec), so its grammar is the engine's:

* ``mq:throughput``: ``high``, ``medium`` or ``low`` (exact, lower case);
* ``mq:max_queues``: an integer from 1 to 256;
* ``mq:msi_vector_budget``: an integer of at least 3 (one single-queue
  NIC), at most the largest C ``long``.

Integers are ASCII digits with optional surrounding ASCII whitespace, as
the engine reads them; Python's ``int()`` alone would also take ``+4``,
``1_0`` or non-ASCII digits, which the engine refuses.
"""

from nova.api.validation.extra_specs import base
from nova import exception

import nova_mq
from nova_mq import _engine

#: A host for the engine's check of one value: no kernel to read.
_CHECK_OPTIONS = {'max_queues': 1}


class MultiqueueSpecValidator(base.ExtraSpecValidator):
    """Nova's validator, with messages that name the key and the value.

    Nova's own messages name only the value (``'fast' is not one of:
    high, medium, low``); with several keys in one request the operator
    should not have to guess which one.
    """

    def validate(self, name, value):
        try:
            super(MultiqueueSpecValidator, self).validate(name, value)
            _engine_reads(name, value)
        except exception.ValidationError as exc:
            detail = str(exc)
            prefix = 'Validation failed; '
            if detail.startswith(prefix):
                detail = detail[len(prefix):]
            if "'%s'" % (value,) not in detail:
                detail = "'%s': %s" % (value, detail)
            raise exception.ValidationError(
                detail="Validation failed; extra spec '%s': %s" % (
                    name, detail))


def _engine_reads(name, value):
    """Raise ValidationError unless the engine reads the extra spec.

    The engine's own parse: a guest with that one extra spec is planned.
    """
    try:
        nova_mq.plan_guest(2, {name: value}, options=_CHECK_OPTIONS)
    except nova_mq.exception.NovaMQInvalid as exc:
        raise exception.ValidationError(
            detail='Validation failed; %s' % (exc,))


EXTRA_SPEC_VALIDATORS = [
    MultiqueueSpecValidator(
        name='mq:throughput',
        description=(
            'nova-mq: the throughput class of the guest\'s multiqueue '
            'NICs, which sets their queue pairs: ``high`` one per vCPU, '
            '``medium`` one per two vCPUs (rounded up), ``low`` one.  A '
            'port\'s binding profile (``mq_queues``, ``mq_throughput``) '
            'overrides it per NIC.  Only with ``[nova_mq] enabled = true`` '
            'on the compute host (libvirt driver).'
        ),
        value={
            'type': str,
            'enum': list(_engine.THROUGHPUTS),
        },
    ),
    MultiqueueSpecValidator(
        name='mq:max_queues',
        description=(
            'nova-mq: the most queue pairs any NIC of the guest gets.  Only '
            'with ``[nova_mq] enabled = true`` on the compute host '
            '(libvirt driver).'
        ),
        value={
            'type': int,
            'min': 1,
            'max': _engine.MAX_QUEUES,
        },
    ),
    MultiqueueSpecValidator(
        name='mq:msi_vector_budget',
        description=(
            'nova-mq: the MSI-X vectors the guest may use in all (its NICs '
            'get this minus the host\'s ``[nova_mq] reserved_msi_vectors``); '
            'NIC queues are lowered to fit.  Overrides the host\'s '
            '``[nova_mq] msi_vector_budget``.  Only with ``[nova_mq] '
            'enabled = true`` on the compute host (libvirt driver).'
        ),
        value={
            'type': int,
            'min': _engine.MIN_MSI_VECTOR_BUDGET,
            'max': _engine.MAX_MSI_VECTOR_BUDGET,
        },
    ),
]


def register():
    """The ``nova.api.extra_spec_validators`` entry point."""
    return EXTRA_SPEC_VALIDATORS
