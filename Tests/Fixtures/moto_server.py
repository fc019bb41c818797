#!/usr/bin/env python3
"""A real S3-compatible server for the ObjectStore tests: moto's server mode on 127.0.0.1, a free port.

Usage: python3 Tests/Fixtures/moto_server.py [--auth]

Prints one JSON line, {"endpoint": "http://127.0.0.1:PORT", "access_key": ..., "secret_key": ...}, then
answers commands, one JSON object per line on stdin, with one JSON line on stdout. It exits (and the
server with it) when stdin closes, so a test process that dies cannot leave a server behind.

--auth makes moto check SigV4 signatures and IAM permissions (INITIAL_NO_AUTH_ACTION_COUNT): the script
creates an IAM user with an allow-all policy and an access key while checking is still off, and prints
that key; requests signed with another secret then fail with SignatureDoesNotMatch. (moto's own
signature check mis-handles keys with characters such as + & = $ : , ( ) * ! ' @ ; or non-ASCII, and
query values with a '/', such as ListObjectsV2's prefix=dir/, even from boto3; tests of those use the
server without --auth.)

boto3 is the independent reference client: tests upload with it, read back what Sluice wrote with it,
and ask it which multipart uploads are still open.

Commands ("op"): create_bucket(bucket), put(bucket, key, path | text [, acl]), get(bucket, key, path)
-> {size, md5}, list(bucket, prefix) -> {keys, sizes}, uploads(bucket) -> {uploads: [key...]},
make_parquet(path, rows, row_group_size, image_side) (pyarrow: an int id, a string with nulls, a
double, a fixed-shape uint8 tensor column).
"""

import argparse
import hashlib
import json
import logging
import os
import sys


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--auth", action="store_true")
    args = parser.parse_args()
    if args.auth:
        # Three unauthenticated IAM calls below; everything after must be signed correctly.
        os.environ["INITIAL_NO_AUTH_ACTION_COUNT"] = "3"
    os.environ.setdefault("MOTO_ALLOW_NONEXISTENT_REGION", "true")

    import boto3
    from botocore.config import Config
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per request on stderr
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"

    access_key, secret_key = "AKIAMOTOTESTKEY00001", "moto-test-secret-not-for-real-use"
    if args.auth:
        iam = boto3.client("iam", endpoint_url=endpoint, region_name="us-east-1",
                           aws_access_key_id="bootstrap", aws_secret_access_key="bootstrap")
        iam.create_user(UserName="sluice-tests")
        iam.put_user_policy(UserName="sluice-tests", PolicyName="all", PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
        key = iam.create_access_key(UserName="sluice-tests")["AccessKey"]
        access_key, secret_key = key["AccessKeyId"], key["SecretAccessKey"]

    s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                      aws_access_key_id=access_key, aws_secret_access_key=secret_key,
                      config=Config(retries={"max_attempts": 1}))
    print(json.dumps({"endpoint": endpoint, "access_key": access_key, "secret_key": secret_key}), flush=True)

    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        try:
            command = json.loads(line)
            reply = run(s3, command)
            reply["ok"] = True
        except Exception as error:  # reported to the test, which fails with it
            reply = {"ok": False, "error": f"{type(error).__name__}: {error}"}
        print(json.dumps(reply), flush=True)
    server.stop()


def run(s3, command):
    op = command["op"]
    if op == "create_bucket":
        s3.create_bucket(Bucket=command["bucket"])
        return {}
    if op == "put":
        body = open(command["path"], "rb").read() if "path" in command else command["text"].encode()
        extra = {"ACL": command["acl"]} if "acl" in command else {}
        s3.put_object(Bucket=command["bucket"], Key=command["key"], Body=body, **extra)
        return {"size": len(body)}
    if op == "get":
        body = s3.get_object(Bucket=command["bucket"], Key=command["key"])["Body"].read()
        if "path" in command:
            with open(command["path"], "wb") as out:
                out.write(body)
        return {"size": len(body), "md5": hashlib.md5(body).hexdigest()}
    if op == "list":
        paginator = s3.get_paginator("list_objects_v2")
        keys, sizes = [], []
        for page in paginator.paginate(Bucket=command["bucket"], Prefix=command.get("prefix", "")):
            for item in page.get("Contents", []):
                keys.append(item["Key"])
                sizes.append(item["Size"])
        return {"keys": keys, "sizes": sizes}
    if op == "uploads":
        answer = s3.list_multipart_uploads(Bucket=command["bucket"])
        return {"uploads": [upload["Key"] for upload in answer.get("Uploads", [])]}
    if op == "make_parquet":
        make_parquet(command["path"], command["rows"], command["row_group_size"], command["image_side"])
        return {}
    raise ValueError(f"unknown op {op}")


def make_parquet(path, rows, row_group_size, side):
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(7)
    pixels = side * side * 3
    images = rng.integers(0, 256, size=(rows, pixels), dtype=np.uint8)
    tensor = pa.FixedShapeTensorArray.from_numpy_ndarray(images.reshape(rows, side, side, 3))
    table = pa.table({
        "id": pa.array(range(rows), pa.int64()),
        "label": pa.array([None if i % 7 == 3 else f"item-{i}" for i in range(rows)], pa.string()),
        "score": pa.array(rng.standard_normal(rows), pa.float64()),
        "image": tensor,
    })
    pq.write_table(table, path, row_group_size=row_group_size, compression="snappy")


if __name__ == "__main__":
    main()
