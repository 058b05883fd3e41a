"""How the API's entry points run it: uvicorn with the deployed options, and the opt-in
process tuning of ServerSettings. Only entry points call this (`python -m powerwatch_api`,
the one-machine platform's serve); the app and its stores never change the process."""

from __future__ import annotations

import gc
import sys

from powerwatch_api.limits import MAX_HEADER_BYTES
from powerwatch_api.settings import ServerSettings

#: uvicorn options every entry point serves the API with.
UVICORN_OPTIONS = {
    "log_level": "warning",
    "access_log": False,  # the app writes structured access logs itself
    "server_header": False,
    "proxy_headers": False,
    "h11_max_incomplete_event_size": MAX_HEADER_BYTES,
    "timeout_keep_alive": 5,
}


def tune_process(server: ServerSettings) -> None:
    """Apply the opt-in tuning (POWERWATCH_API_GIL_SWITCH_INTERVAL_S, _GC_FREEZE).

    Call once, just before serving: gc.freeze() keeps what exists at that moment out of
    the collector's full passes, which is the long-lived start-up heap only then.
    """
    if server.gil_switch_interval_s > 0:
        sys.setswitchinterval(server.gil_switch_interval_s)
    if server.gc_freeze:
        gc.collect()
        gc.freeze()
