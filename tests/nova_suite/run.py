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
"""Run Nova's own unit tests for virtio-net multiqueue with nova-mq in place.

    python tests/nova_suite/run.py [--stock] [--nova-sdist nova-X.tar.gz]

Nova's test files are run unchanged.  Before they are imported, Nova's
classes are replaced where the tests (and the rest of Nova) look them up:

* ``nova.virt.libvirt.vif.LibvirtGenericVIFDriver``
  -> ``nova_mq.vif.MultiqueueVIFDriver``
* ``nova.virt.libvirt.config.LibvirtConfigGuestInterface``
  -> ``nova_mq.vif.MultiqueueGuestInterface`` (so Nova's config and designer
  tests write their XML through nova-mq's C emitter).

The run then proves that it tested nova-mq and not stock Nova: the test
modules see nova-mq's classes, nova-mq's ``get_config`` planned NICs with
the engine, and the C emitter wrote interface XML that Nova's tests
compared.  Every call of Nova's ``hardware.get_vif_multiqueue_constraint``
during the run (Nova's VIFMultiqueueEnabledTest calls it directly) is also
decided by nova-mq's engine, through nova-mq's own driver code, and the two
must agree: the same bool, or the same Nova exception with the same
message.  Each of VIFMultiqueueEnabledTest's cases must have been compared.

``--stock`` runs the same tests without nova-mq (the baseline).

Nova's tests use nova.test.TestCase, which clears a test's attributes in a
cleanup; pytest's unittest support does not survive that, so the tests run
under unittest's runner, as Nova's stestr does.

Exit status: 0 when every test passed and every check held, else 1; a
component that is missing (Nova's test files, a test dependency, nova-mq's
engine) is an error, never a skip.
"""

import argparse
import atexit
import collections
import importlib
import os
import shutil
import sys
import tarfile
import tempfile
import time
import unittest

#: What is run: Nova's unit tests of the code nova-mq replaces.
SUITE = (
    'nova.tests.unit.virt.libvirt.test_vif.LibvirtVifTestCase',
    'nova.tests.unit.virt.libvirt.test_config.'
    'LibvirtConfigGuestInterfaceTest',
    'nova.tests.unit.virt.libvirt.test_designer',
    'nova.tests.unit.virt.test_hardware.VIFMultiqueueEnabledTest',
)

#: The test whose every case is also decided by nova-mq's engine.
CONSTRAINT_TEST = 'nova.tests.unit.virt.test_hardware.VIFMultiqueueEnabledTest'

#: Test classes whose tests must have used nova-mq, and how: 'new' (built
#: MultiqueueGuestInterface configs), 'plan' (the vif driver planned NICs
#: with the engine), 'emit' (the C emitter wrote an interface).
MUST_USE = {
    'nova.tests.unit.virt.libvirt.test_vif.LibvirtVifTestCase':
        ('new', 'plan', 'emit'),
    'nova.tests.unit.virt.libvirt.test_config.'
    'LibvirtConfigGuestInterfaceTest': ('new', 'emit'),
    'nova.tests.unit.virt.libvirt.test_designer.DesignerTestCase':
        ('new',),
}


class SuiteError(Exception):
    """A component is missing or a check failed: the run fails."""


def _die(msg):
    sys.stderr.write('run-nova-tests: ERROR: %s\n' % msg)
    sys.exit(1)


def _nova_version():
    from importlib import metadata
    return metadata.version('nova')


def _overlay_sdist(sdist, version):
    """Put the sdist's nova/tests first on nova.tests.__path__."""
    name = os.path.basename(sdist)
    expected = 'nova-%s.tar.gz' % version
    if name != expected:
        raise SuiteError('%s does not match the installed Nova %s (expected '
                         '%s)' % (sdist, version, expected))
    scratch = tempfile.mkdtemp(prefix='nova-mq-nova-tests-')
    atexit.register(shutil.rmtree, scratch, True)
    prefix = 'nova-%s/nova/tests/' % version
    with tarfile.open(sdist) as tar:
        members = [m for m in tar.getmembers()
                   if m.name.startswith(prefix) and (m.isfile() or m.isdir())]
        if not any(m.name.endswith('unit/virt/libvirt/test_vif.py')
                   for m in members):
            raise SuiteError('%s has no nova/tests/unit' % sdist)
        for m in members:
            m.name = m.name[len('nova-%s/' % version):]
        kwargs = {'filter': 'data'} if hasattr(tarfile, 'data_filter') else {}
        tar.extractall(scratch, members=members, **kwargs)
    import nova.tests
    nova.tests.__path__.insert(0, os.path.join(scratch, 'nova', 'tests'))
    return scratch


def _import_nova_tests(sdist):
    """Import nova.tests.unit (Nova's set-up: objects, monkey patching)."""
    version = _nova_version()
    if sdist:
        _overlay_sdist(sdist, version)
    try:
        importlib.import_module('nova.tests.unit')
        import nova.tests.unit.virt.libvirt  # noqa: F401
    except ModuleNotFoundError as e:
        if (e.name or '').startswith('nova.tests'):
            raise SuiteError(
                'Nova %s has no unit tests installed (%s); pass the matching '
                'sdist with --nova-sdist (or NOVA_SDIST)' % (version, e))
        raise SuiteError('a test dependency of Nova is missing: %s' % e)
    return version


class NovaMQInPlace(object):
    """nova-mq's classes in Nova's place, and what the run did with them."""

    def __init__(self):
        self.new = collections.Counter()
        self.get_config = collections.Counter()
        self.plans = collections.Counter()
        self.emitted = collections.Counter()
        self.emit_fallbacks = collections.Counter()
        self.constraint_checks = collections.Counter()
        self.constraint_mismatches = []
        self.current = None

    def _where(self):
        test = self.current
        if test is None:
            return None
        return '%s.%s' % (type(test).__module__, type(test).__name__)

    def install(self):
        import nova_mq
        from nova_mq import vif as mq_vif
        from nova.virt import hardware
        from nova.virt.libvirt import config as vconfig
        from nova.virt.libvirt import vif as nova_vif

        engine = mq_vif._engine
        if not hasattr(engine, 'render_attrs'):
            raise SuiteError('nova-mq\'s engine %s has no render_attrs'
                             % engine.__file__)
        self.nova_driver = nova_vif.LibvirtGenericVIFDriver
        self.nova_interface = vconfig.LibvirtConfigGuestInterface
        if not issubclass(mq_vif.MultiqueueVIFDriver, self.nova_driver):
            raise SuiteError('MultiqueueVIFDriver is not a subclass of '
                             'Nova\'s LibvirtGenericVIFDriver')
        if not issubclass(mq_vif.MultiqueueGuestInterface,
                          self.nova_interface):
            raise SuiteError('MultiqueueGuestInterface is not a subclass of '
                             'Nova\'s LibvirtConfigGuestInterface')

        nova_vif.LibvirtGenericVIFDriver = mq_vif.MultiqueueVIFDriver
        vconfig.LibvirtConfigGuestInterface = mq_vif.MultiqueueGuestInterface

        # Instrumentation: counts per test class; behaviour unchanged.
        run = self
        mq_interface = mq_vif.MultiqueueGuestInterface
        get_config = mq_vif.MultiqueueVIFDriver.get_config
        plan_guest = nova_mq.plan_guest
        render_attrs = engine.render_attrs

        def counted_init(self, **kwargs):
            run.new[run._where()] += 1
            super(mq_interface, self).__init__(**kwargs)

        def counted_get_config(self, *args, **kwargs):
            run.get_config[run._where()] += 1
            return get_config(self, *args, **kwargs)

        def counted_plan(*args, **kwargs):
            run.plans[run._where()] += 1
            return plan_guest(*args, **kwargs)

        def counted_render_attrs(*args, **kwargs):
            try:
                xml = render_attrs(*args, **kwargs)
            except TypeError:
                run.emit_fallbacks[run._where()] += 1
                raise
            run.emitted[run._where()] += 1
            return xml

        mq_interface.__init__ = counted_init
        mq_vif.MultiqueueVIFDriver.get_config = counted_get_config
        nova_mq.plan_guest = counted_plan
        engine.render_attrs = counted_render_attrs

        # Nova's constraint, checked against nova-mq's decision.
        self.nova_constraint = hardware.get_vif_multiqueue_constraint

        def checked_constraint(flavor, image_meta):
            try:
                result = run.nova_constraint(flavor, image_meta)
            except Exception as e:
                run._check_constraint(flavor, image_meta, e)
                raise
            run._check_constraint(flavor, image_meta, result)
            return result

        hardware.get_vif_multiqueue_constraint = checked_constraint
        self.mq_vif = mq_vif

    def _check_constraint(self, flavor, image_meta, nova_result):
        """nova-mq's engine, through its vif driver, decides as Nova did."""
        from nova import objects
        from nova.network import model as network_model

        where = self._where()
        self.constraint_checks[where] += 1
        test_id = self.current.id() if self.current is not None else None
        driver = self.mq_vif.MultiqueueVIFDriver()
        instance = objects.Instance(
            uuid='00000000-0000-4000-8000-000000000001')
        vif = network_model.VIF(id='mq-check', address='fa:16:3e:00:00:01',
                                type='ovs', vnic_type='normal')
        # Nova's tests forbid os.uname(); the decision does not need it.
        uname = os.uname_result(('Linux', 'nova-mq', '6.1.0', '#1', 'x86_64'))
        real_uname = os.uname
        os.uname = lambda: uname
        try:
            plan, index = driver.plan_guest(instance, vif, image_meta,
                                            flavor, 'kvm')
            mine = plan.nics[index].multiqueue
        except Exception as e:
            mine = e
        finally:
            os.uname = real_uname
        if isinstance(nova_result, Exception):
            same = (type(mine) is type(nova_result) and
                    str(mine) == str(nova_result))
        else:
            same = (not isinstance(mine, Exception) and
                    bool(mine) == bool(nova_result))
        if not same:
            self.constraint_mismatches.append(
                (test_id, _describe(nova_result), _describe(mine)))

    def verify_modules(self, modules):
        """The test modules see nova-mq's classes, not Nova's."""
        from nova.virt.libvirt import config as vconfig
        from nova.virt.libvirt import vif as nova_vif
        if nova_vif.LibvirtGenericVIFDriver is not (
                self.mq_vif.MultiqueueVIFDriver):
            raise SuiteError('nova.virt.libvirt.vif.LibvirtGenericVIFDriver '
                             'is not nova-mq\'s')
        if vconfig.LibvirtConfigGuestInterface is not (
                self.mq_vif.MultiqueueGuestInterface):
            raise SuiteError('nova.virt.libvirt.config.'
                             'LibvirtConfigGuestInterface is not nova-mq\'s')
        originals = (self.nova_driver, self.nova_interface)
        for module in modules:
            for name, value in vars(module).items():
                if any(value is o for o in originals):
                    raise SuiteError('%s.%s is Nova\'s own %s' % (
                        module.__name__, name, value.__name__))
        # Nova's own objects are nova-mq's.
        if type(vconfig.LibvirtConfigGuestInterface()) is not (
                self.mq_vif.MultiqueueGuestInterface):
            raise SuiteError('LibvirtConfigGuestInterface() is not nova-mq\'s')

    def verify_run(self, classes_run, subset=False):
        """Every test class used nova-mq as it must; the engine agreed."""
        problems = []
        for cls, needs in sorted(MUST_USE.items()):
            if cls not in classes_run:
                if not subset:
                    problems.append('%s did not run' % cls)
                continue
            if 'new' in needs and not self.new[cls]:
                problems.append('%s never built a MultiqueueGuestInterface'
                                % cls)
            if 'plan' in needs and not (self.get_config[cls] and
                                        self.plans[cls]):
                problems.append('%s never planned a NIC with nova-mq '
                                '(get_config %d, plans %d)' % (
                                    cls, self.get_config[cls],
                                    self.plans[cls]))
            if 'emit' in needs and not self.emitted[cls]:
                problems.append('%s never wrote XML with nova-mq\'s C '
                                'emitter' % cls)
        if not subset and not self.constraint_cases:
            problems.append('%s has no cases' % CONSTRAINT_TEST)
        if self.checked_cases < self.constraint_cases:
            problems.append('%s: only %d of its %d cases were decided by '
                            'nova-mq\'s engine' % (
                                CONSTRAINT_TEST, self.checked_cases,
                                self.constraint_cases))
        for test_id, nova, mine in self.constraint_mismatches:
            problems.append('get_vif_multiqueue_constraint in %s: Nova %s, '
                            'nova-mq %s' % (test_id, nova, mine))
        return problems


def _describe(result):
    if isinstance(result, Exception):
        return '%s(%r)' % (type(result).__name__, str(result))
    return repr(result)


class Result(unittest.TextTestResult):
    """unittest's result, counting per outcome, telling the run the test."""

    def __init__(self, stream, descriptions, verbosity, in_place=None):
        super(Result, self).__init__(stream, descriptions, verbosity)
        self.in_place = in_place
        self.passed = 0
        self.classes_run = set()
        self.checked_tests = set()

    def startTest(self, test):
        if self.in_place is not None:
            self.in_place.current = test
            self._checks_before = sum(
                self.in_place.constraint_checks.values())
        self.classes_run.add('%s.%s' % (type(test).__module__,
                                        type(test).__name__))
        super(Result, self).startTest(test)

    def stopTest(self, test):
        super(Result, self).stopTest(test)
        if self.in_place is not None:
            if sum(self.in_place.constraint_checks.values()) > (
                    self._checks_before):
                self.checked_tests.add(test.id())
            self.in_place.current = None

    def addSuccess(self, test):
        super(Result, self).addSuccess(test)
        self.passed += 1


def _load(names):
    loader = unittest.TestLoader()
    suite = unittest.TestSuite()
    modules = []
    for name in names:
        try:
            tests = loader.loadTestsFromName(name)
        except ImportError as e:
            raise SuiteError('cannot import %s: %s' % (name, e))
        for test in _iterate(tests):
            # unittest turns an import error into a test that fails.
            error = getattr(test, '_exception', None)
            if isinstance(error, BaseException):
                raise SuiteError('cannot load %s: %s' % (name, error))
        suite.addTests(tests)
        module = name
        while module not in sys.modules:
            module = module.rsplit('.', 1)[0]
        modules.append(sys.modules[module])
    return suite, modules


def _count(suite):
    return sum(1 for _ in _iterate(suite))


def _iterate(suite):
    for test in suite:
        if isinstance(test, unittest.TestSuite):
            for t in _iterate(test):
                yield t
        else:
            yield test


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--stock', action='store_true',
                        help='run the tests against stock Nova (baseline)')
    parser.add_argument('--nova-sdist', default=os.environ.get('NOVA_SDIST'),
                        help='take Nova\'s tests from this sdist '
                             '(nova-<installed version>.tar.gz)')
    parser.add_argument('-v', '--verbose', action='store_true')
    parser.add_argument('tests', nargs='*',
                        help='test names (default: the whole suite)')
    args = parser.parse_args(argv)

    try:
        version = _import_nova_tests(args.nova_sdist)
        in_place = None
        if not args.stock:
            in_place = NovaMQInPlace()
            in_place.install()
        names = args.tests or SUITE
        suite, modules = _load(names)
        if in_place is not None:
            in_place.verify_modules(modules)
            in_place.constraint_cases = sum(
                1 for t in _iterate(suite) if t.id().startswith(
                    CONSTRAINT_TEST + '.'))
    except SuiteError as e:
        _die(str(e))
    except ImportError as e:
        _die('cannot import what Nova\'s tests need: %s' % e)

    import nova
    import nova_mq
    print('Nova %s (%s), %s' % (version, os.path.dirname(nova.__file__),
                                'STOCK, without nova-mq' if args.stock else
                                'nova-mq %s in place (%s)' % (
                                    nova_mq.__version__,
                                    os.path.dirname(nova_mq.__file__))))
    print('Nova\'s tests: %s' % os.path.dirname(
        sys.modules['nova.tests.unit'].__file__))
    total = _count(suite)
    if not total:
        _die('no tests were loaded')

    runner = unittest.TextTestRunner(
        stream=sys.stdout, verbosity=2 if args.verbose else 1,
        resultclass=lambda *a: Result(*a, in_place=in_place))
    started = time.time()
    result = runner.run(suite)
    elapsed = time.time() - started

    problems = []
    if in_place is not None:
        in_place.checked_cases = sum(
            1 for t in result.checked_tests
            if t.startswith(CONSTRAINT_TEST + '.'))
        problems = in_place.verify_run(result.classes_run,
                                       subset=bool(args.tests))

    failed = len(result.failures) + len(result.errors)
    skipped = len(result.skipped)
    print('\nNova %s, %s: %d tests: %d passed, %d failed, %d skipped, '
          '%d expected failures, %d unexpected successes (%.1f s)' % (
              version, 'stock' if args.stock else 'nova-mq in place',
              result.testsRun, result.passed, failed, skipped,
              len(result.expectedFailures), len(result.unexpectedSuccesses),
              elapsed))
    if in_place is not None:
        print('nova-mq in place: %d MultiqueueGuestInterface built, '
              'get_config %d calls, %d engine plans, C '
              'emitter %d interfaces (%d fell back to Nova\'s writer), '
              'get_vif_multiqueue_constraint %d decisions compared with '
              'nova-mq\'s engine (%d of %s\'s %d cases)' % (
                  sum(in_place.new.values()),
                  sum(in_place.get_config.values()),
                  sum(in_place.plans.values()),
                  sum(in_place.emitted.values()),
                  sum(in_place.emit_fallbacks.values()),
                  sum(in_place.constraint_checks.values()),
                  in_place.checked_cases, CONSTRAINT_TEST.rsplit('.')[-1],
                  in_place.constraint_cases))
    for problem in problems:
        print('CHECK FAILED: %s' % problem)
    if result.testsRun != total:
        print('CHECK FAILED: %d tests loaded, %d run' % (total,
                                                         result.testsRun))
        problems.append('not all tests ran')
    ok = result.wasSuccessful() and not problems and not (
        result.unexpectedSuccesses)
    print('RESULT: %s' % ('PASS' if ok else 'FAIL'))
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
