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
  -> ``EmitterGuestInterface`` (this harness's emitter_config.py, not
  nova-mq's product): Nova's class, its XML written by nova-mq's C emitter
  ``nova_mq.render_interface``.  Nova's vif code builds its configs by
  that name, so the configs nova-mq's driver returns are written by the
  emitter too.

The run then proves that it tested nova-mq and not stock Nova: the test
modules see these classes, Nova's ``get_base_config`` asked nova-mq's seams
(``_get_packed_virtqueue_settings`` on Nova 2023.1+, where the plan is made
first, and ``_get_virtio_mq_settings``) and the seams planned the NICs with
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
import importlib.util
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
#: EmitterGuestInterface configs), 'plan' (nova-mq's get_config ran and its
#: seam planned NICs with the engine), 'emit' (the C emitter wrote an
#: interface).
MUST_USE = {
    'nova.tests.unit.virt.libvirt.test_vif.LibvirtVifTestCase':
        ('plan', 'emit'),
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


def _load_emitter_config():
    """This harness's emitter_config.py (PYTHONSAFEPATH: not on sys.path)."""
    name = 'nova_suite_emitter_config'
    if name in sys.modules:
        return sys.modules[name]
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                        'emitter_config.py')
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


class NovaMQInPlace(object):
    """nova-mq's driver and the emitter's config in Nova's place, and what
    the run did with them."""

    def __init__(self):
        self.new = collections.Counter()
        self.get_config = collections.Counter()
        self.seam_calls = collections.Counter()
        self.plans = collections.Counter()
        self.other_plans = collections.Counter()
        self.emitted = collections.Counter()
        self.emit_fallbacks = collections.Counter()
        self.fallback_reasons = collections.Counter()
        self.constraint_checks = collections.Counter()
        # get_config() results of Nova's own class, not the harness's.
        self.nova_typed = []
        self.constraint_mismatches = []
        self.current = None
        self.in_seam = 0
        self.in_check = 0

    def _where(self):
        test = self.current
        if test is None:
            return None
        return '%s.%s' % (type(test).__module__, type(test).__name__)

    def _observe(self, event, what):
        """emitter_config's events: 'new', 'emit', 'fallback'."""
        where = self._where()
        if event == 'new':
            self.new[where] += 1
        elif event == 'emit':
            self.emitted[where] += 1
        else:
            self.emit_fallbacks[where] += 1
            self.fallback_reasons[_describe(what)] += 1

    def install(self):
        import nova_mq
        from nova_mq import vif as mq_vif
        from nova.virt import hardware
        from nova.virt.libvirt import config as vconfig
        from nova.virt.libvirt import vif as nova_vif

        if not hasattr(nova_mq, 'render_interface'):
            raise SuiteError('nova-mq %s has no render_interface'
                             % nova_mq.__file__)
        emitter = _load_emitter_config()
        self.nova_driver = nova_vif.LibvirtGenericVIFDriver
        self.nova_interface = vconfig.LibvirtConfigGuestInterface
        self.interface = emitter.EmitterGuestInterface
        if emitter.NOVA_INTERFACE is not self.nova_interface:
            raise SuiteError('emitter_config did not bind Nova\'s '
                             'LibvirtConfigGuestInterface')
        driver = mq_vif.MultiqueueVIFDriver
        if not issubclass(driver, self.nova_driver):
            raise SuiteError('MultiqueueVIFDriver is not a subclass of '
                             'Nova\'s LibvirtGenericVIFDriver')

        nova_vif.LibvirtGenericVIFDriver = driver
        vconfig.LibvirtConfigGuestInterface = self.interface

        # Instrumentation: counts per test class; behaviour unchanged.
        run = self
        emitter.observer = self._observe
        get_config = driver.get_config
        # nova-mq's queue seams: the packed ring (Nova 2023.1+, where the
        # plan is made first) and the queues.
        seams = [name for name in ('_get_packed_virtqueue_settings',
                                   '_get_virtio_mq_settings')
                 if name in vars(driver)]
        # nova_mq may resolve plan_guest lazily (a module __getattr__):
        # read it once, then set the attribute, which works either way.
        plan_guest = nova_mq.plan_guest

        def counted_get_config(self, *args, **kwargs):
            run.get_config[run._where()] += 1
            conf = get_config(self, *args, **kwargs)
            if type(conf) is run.nova_interface:
                test = run.current
                run.nova_typed.append(test.id() if test is not None
                                      else None)
            return conf

        def counted_seam(seam):
            def counted(self, *args, **kwargs):
                run.seam_calls[run._where()] += 1
                run.in_seam += 1
                try:
                    return seam(self, *args, **kwargs)
                finally:
                    run.in_seam -= 1
            return counted

        def counted_plan(*args, **kwargs):
            if not run.in_check:
                counter = run.plans if run.in_seam else run.other_plans
                counter[run._where()] += 1
            return plan_guest(*args, **kwargs)

        driver.get_config = counted_get_config
        for name in seams:
            setattr(driver, name, counted_seam(vars(driver)[name]))
        nova_mq.plan_guest = counted_plan

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
        self.in_check += 1
        try:
            # Nova's rule is about a virtio NIC.
            plan, index = driver.plan_guest(instance, vif, image_meta,
                                            flavor, 'kvm', model='virtio')
            mine = plan.nics[index].multiqueue
        except Exception as e:
            mine = e
        finally:
            self.in_check -= 1
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
        """The test modules see the classes in place, not Nova's."""
        from nova.virt.libvirt import config as vconfig
        from nova.virt.libvirt import vif as nova_vif
        if nova_vif.LibvirtGenericVIFDriver is not (
                self.mq_vif.MultiqueueVIFDriver):
            raise SuiteError('nova.virt.libvirt.vif.LibvirtGenericVIFDriver '
                             'is not nova-mq\'s')
        if vconfig.LibvirtConfigGuestInterface is not self.interface:
            raise SuiteError('nova.virt.libvirt.config.'
                             'LibvirtConfigGuestInterface is not the '
                             'harness\'s EmitterGuestInterface')
        originals = (self.nova_driver, self.nova_interface)
        for module in modules:
            for name, value in vars(module).items():
                if any(value is o for o in originals):
                    raise SuiteError('%s.%s is Nova\'s own %s' % (
                        module.__name__, name, value.__name__))
        # Nova's name builds the harness's config.
        if type(vconfig.LibvirtConfigGuestInterface()) is not self.interface:
            raise SuiteError('LibvirtConfigGuestInterface() is not the '
                             'harness\'s EmitterGuestInterface')

    def verify_run(self, classes_run, subset=False):
        """Every test class used nova-mq as it must; the engine agreed."""
        problems = []
        for cls, needs in sorted(MUST_USE.items()):
            if cls not in classes_run:
                if not subset:
                    problems.append('%s did not run' % cls)
                continue
            if 'new' in needs and not self.new[cls]:
                problems.append('%s never built an EmitterGuestInterface'
                                % cls)
            if 'plan' in needs and not (self.get_config[cls] and
                                        self.plans[cls]):
                problems.append('%s never planned a NIC through nova-mq\'s '
                                'seam (get_config %d, seam calls %d, plans '
                                '%d)' % (cls, self.get_config[cls],
                                         self.seam_calls[cls],
                                         self.plans[cls]))
            if 'emit' in needs and not self.emitted[cls]:
                problems.append('%s never wrote XML with nova-mq\'s C '
                                'emitter' % cls)
        for test_id in self.nova_typed:
            problems.append('nova-mq\'s get_config returned Nova\'s own '
                            'LibvirtConfigGuestInterface, not the one in '
                            'its place, in %s' % test_id)
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

    def summary(self):
        """The run's counters, in one paragraph."""
        lines = [
            'nova-mq in place: get_config %d calls, seam %d calls, %d engine '
            'plans through the seam (%d elsewhere: plugging, NICs Nova asks '
            'no queues of); %d EmitterGuestInterface built, C emitter %d '
            'interfaces (%d fell back to Nova\'s writer); '
            'get_vif_multiqueue_constraint %d decisions compared with '
            'nova-mq\'s engine (%d of %s\'s %d cases)' % (
                sum(self.get_config.values()),
                sum(self.seam_calls.values()),
                sum(self.plans.values()),
                sum(self.other_plans.values()),
                sum(self.new.values()),
                sum(self.emitted.values()),
                sum(self.emit_fallbacks.values()),
                sum(self.constraint_checks.values()),
                self.checked_cases, CONSTRAINT_TEST.rsplit('.')[-1],
                self.constraint_cases)]
        for reason, n in sorted(self.fallback_reasons.items()):
            lines.append('  fell back %d x: %s' % (n, reason))
        return '\n'.join(lines)


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
        print(in_place.summary())
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
