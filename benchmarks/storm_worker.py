"""The renewal storm's worker process: ``sms-addon worker`` as it is (settings, deps,
capacity, metrics endpoint), less the Temporal schedules, which the time-skipping test
server the storm runs on does not have.

    python -m benchmarks.storm_worker      # environment as for `sms-addon worker`
"""

from __future__ import annotations

import worker

if __name__ == "__main__":
    worker.main(schedules=False)
