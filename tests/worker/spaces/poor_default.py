"""The sleep space with a poor warm start: its defaults score lowest at every epoch.

So promotion would pause the warm start at its first rung and never promote it
(tests/worker/test_warm_start.py).
"""

from __future__ import annotations

import dataclasses

from search_spaces.sleep import SPACE as SLEEP

# x = 0 is the far end of the made-up accuracy's peak at 0.7, and "narrow" costs 0.05 more.
SPACE = dataclasses.replace(SLEEP, name="poor-default", defaults={"x": 0.0, "variant": "narrow"})
