#!/bin/sh
# /lambda-entrypoint.sh as public.ecr.aws/lambda/python has it: the one argument is the handler;
# outside Lambda (no AWS_LAMBDA_RUNTIME_API) AWS's Runtime Interface Emulator fronts the runtime
# (invoke endpoint on :8080, Runtime API on 127.0.0.1:9001), inside Lambda the runtime runs alone.
if [ $# -ne 1 ]; then
  echo "entrypoint requires the handler name to be the first argument" 1>&2
  exit 142
fi
export _HANDLER="$1"

RUNTIME_ENTRYPOINT=/var/runtime/bootstrap
if [ -z "${AWS_LAMBDA_RUNTIME_API}" ]; then
  exec /usr/local/bin/aws-lambda-rie $RUNTIME_ENTRYPOINT
else
  exec $RUNTIME_ENTRYPOINT
fi
