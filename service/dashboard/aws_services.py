"""The AWS operations the function calls: the image keeps botocore's data for these alone.

service/trim_botocore_data.py reads this module while the image's dependency layer is built,
before the rest of the code is copied, so it holds nothing else. dashboard.aws refuses a client
for any other service, so code that starts calling a new one fails its tests until it is listed
here (on the host too, where botocore's data is complete). In the image a client has a method
for the listed operations alone: code that calls another one fails the unit tests, which run
inside the image (tests/unit/test_aws.py says so by name).
"""

OPERATIONS = {
    "dynamodb": ("DescribeTable", "GetItem", "Query", "TransactWriteItems", "UpdateItem"),
    "s3": ("GetObject",),
}
SERVICES = tuple(OPERATIONS)
