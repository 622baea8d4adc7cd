"""The Lambda entry point: `handler.lambda_handler` (the image's CMD; never move it).

Init does everything that can be done before a request (the app, its OpenAPI document and
middleware stack, the AWS clients, what a first request would build: dashboard.warm_up), without
a network call: it is what a SnapStart snapshot captures, and on-demand init runs at full CPU.
"""

from dashboard import aws, snapstart, warm_up
from dashboard.adapter import lambda_handler_for
from dashboard.app import create_app

app = create_app()
aws.prepare()
lambda_handler = lambda_handler_for(app)
warm_up.run(lambda_handler, everything=warm_up.snapstart_init())
snapstart.register()
