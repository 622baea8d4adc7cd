"""The floor (floor_handler.py) with init under the same garbage-collector pause as the service's
handler.py: what the service's own work costs once both have that saving."""

import gc

gc.disable()

from floor_handler import app, lambda_handler  # noqa: E402 - imported with the collector paused

gc.freeze()
gc.enable()

__all__ = ["app", "lambda_handler"]
