"""Suite-wide settings.

``nas search`` starts one worker process per core by default (``--jobs 0``); the tests run the
CLI with one (``NAS_JOBS=1``) unless they test ``--jobs`` itself, so a test's timing and
process count do not depend on the machine.
"""

import os

os.environ.setdefault("NAS_JOBS", "1")
