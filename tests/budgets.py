"""Hypothesis budgets and settings, in one place: ``HYPOTHESIS_PROFILE`` picks a profile.

- ``ci`` (the default): the full budgets below, what CI and the README's test command run;
- ``dev``: a quarter of each (at least 10), for a quick local run;
- ``long``: five times each, to hunt for rare failures before they reach CI.

Every property test takes ``@settings(max_examples=examples(NAME))`` and nothing else:
deadline, database and health checks are the profile's. An example's cost differs a lot
between tests (a fuzzed request against one app vs a fresh database per example), so
each has its own budget.
"""

import os

from hypothesis import HealthCheck, settings

FULL = {
    "fuzz anonymous": 1500,
    "fuzz editor": 500,
    "planned equivalence": 400,
    "visibility": 25,
    "visibility editors": 25,
}
SHARE = {"ci": 1.0, "dev": 0.25, "long": 5.0}

settings.register_profile(
    "ci",
    # Wall-clock deadlines make a busy 2-core machine fail tests: speed is bench/'s job.
    deadline=None,
    # No example database: a run is what its seed says, on every machine alike.
    database=None,
    # Property tests share one database or app per test (function-scoped fixtures), and
    # some examples are whole HTTP round trips.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
settings.register_profile("dev", parent=settings.get_profile("ci"))
settings.register_profile("long", parent=settings.get_profile("ci"))
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def examples(name: str) -> int:
    """The number of examples test ``name`` gets under the loaded profile."""
    share = SHARE[settings.get_current_profile_name()]
    return max(10, round(FULL[name] * share))
