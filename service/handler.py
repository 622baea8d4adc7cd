"""The Lambda entry point: `handler.lambda_handler` (the image's CMD; never move it).

Init does what can be done before a request (the app, its OpenAPI document and middleware stack,
the AWS clients, what a first request would build: dashboard.warm_up), without a network call: it
is what a SnapStart snapshot captures, and on-demand init runs at full CPU. An on-demand init,
which a caller waits for, leaves what no shared path needs to the first request that needs it.

The cyclic garbage collector is paused during init: init makes upwards of 80,000 objects that live
as long as the process, and leaves a few hundred unreachable, so every collection the allocations
would trigger scans the growing heap to free almost nothing (5 to 8 % of init's time on the
floor: docs/benchmarks.md). At the end, gc.freeze() moves what init made out of the collector's
sight, so no later collection scans it either, and the collector runs again for what requests
make.
"""

import gc

gc.disable()

from dashboard import aws, snapstart, warm_up  # noqa: E402 - imported with the collector paused
from dashboard.adapter import lambda_handler_for  # noqa: E402
from dashboard.app import create_app  # noqa: E402

app = create_app()
everything = warm_up.ahead_of_requests()  # SnapStart or provisioned concurrency: no caller waits
aws.prepare(warm_up.clients(everything))
lambda_handler = lambda_handler_for(app)
warm_up.run(lambda_handler, everything)
snapstart.register()
gc.freeze()
gc.enable()
