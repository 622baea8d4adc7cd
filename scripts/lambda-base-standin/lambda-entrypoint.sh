#!/bin/sh
# Same contract as /lambda-entrypoint.sh in public.ecr.aws/lambda/python: the one argument is the
# handler; without AWS_LAMBDA_RUNTIME_API (i.e. outside Lambda) a local emulator fronts the runtime.
if [ $# -ne 1 ]; then
  echo "entrypoint requires the handler name to be the first argument" 1>&2
  exit 142
fi
export _HANDLER="$1"

if [ -z "${AWS_LAMBDA_RUNTIME_API}" ]; then
  exec /usr/local/bin/aws-lambda-rie-standin /var/lang/bin/python3.13 -m awslambdaric "$_HANDLER"
else
  exec /var/lang/bin/python3.13 -m awslambdaric "$_HANDLER"
fi
