"""The offline rehearsal of `dagger call deploy --env local`: the same chain, through Docker.

build → unit tests in the image → size guard → push to a local OCI registry (registered in moto's
ECR) → terraform apply against moto → the image behind a Lambda-style invoke path and an API Gateway
v2 front → smoke. See docs/local-deploy.md.
"""
