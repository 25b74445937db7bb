# SPDX-License-Identifier: Apache-2.0
"""Runs the integration tests (unittest discovery in tests/integration,
verbose) and ends with one plain line:

    integration: N passed, N failed[, N skipped]

Exits 1 when any test failed or errored. Arguments, if any, are test names
(e.g. test_results or test_results.ResultsTest.test_type_error) run
instead of the whole discovery.
"""
import os
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))


def main(argv):
    sys.path.insert(0, HERE)
    loader = unittest.TestLoader()
    if argv:
        suite = loader.loadTestsFromNames(argv)
    else:
        suite = loader.discover(start_dir=HERE, pattern="test_*.py", top_level_dir=HERE)
    runner = unittest.TextTestRunner(verbosity=2, stream=sys.stderr)
    t0 = time.monotonic()
    result = runner.run(suite)
    failed = len(result.failures) + len(result.errors) + len(result.unexpectedSuccesses)
    skipped = len(result.skipped)
    passed = result.testsRun - failed - skipped - len(result.expectedFailures)
    line = "integration: %d passed, %d failed" % (passed, failed)
    if skipped:
        line += ", %d skipped" % skipped
    sys.stderr.flush()
    print(line)
    print("integration: %.1f s" % (time.monotonic() - t0), file=sys.stderr)
    return 0 if failed == 0 and result.testsRun > 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
