"""The ``geo-tracker`` command: parses input, calls one service, formats output.

Errors a user can fix (``GeoTrackerError``) print one ``Error: ...`` line on stderr
and exit 2; anything else is our bug and exits 1 (``--debug`` shows the traceback).
"""

from __future__ import annotations

from .app import cli, main

# Each module registers its commands on ``cli`` when imported.
from . import accounts as _accounts  # noqa: F401,E402
from . import batches as _batches  # noqa: F401,E402
from . import boundaries as _boundaries  # noqa: F401,E402
from . import cases as _cases  # noqa: F401,E402
from . import database as _database  # noqa: F401,E402
from . import demo as _demo  # noqa: F401,E402
from . import landuse as _landuse  # noqa: F401,E402
from . import maps as _maps  # noqa: F401,E402
from . import patches as _patches  # noqa: F401,E402
from . import patrols as _patrols  # noqa: F401,E402
from . import stats as _stats  # noqa: F401,E402
from . import complaints as _complaints  # noqa: F401,E402
from . import serve as _serve  # noqa: F401,E402
from . import tracking as _tracking  # noqa: F401,E402

__all__ = ["cli", "main"]
