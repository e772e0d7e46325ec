"""Hypothesis profiles for the property tests: 1,000 generated inputs per test in CI
(CI=true), 60 locally (HYPOTHESIS_PROFILE=ci runs the CI amount anywhere). No deadline: the
machine is shared and a slow example is not a failure; function-scoped db fixtures are shared by
the examples of one test on purpose (each example compares row counts before and after)."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

from tests.conftest import IN_CI

_BASE = settings(
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
    print_blob=True,
    database=None,  # no example database left in the work tree
)
settings.register_profile("ci", _BASE, max_examples=1000)
settings.register_profile("dev", _BASE, max_examples=60)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if IN_CI else "dev"))
