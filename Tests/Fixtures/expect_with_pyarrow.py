#!/usr/bin/env python3
"""Writes FILE.expected.json for Parquet files Sluice wrote, as pyarrow reads them.

Same rendering as the conformance files (sluice-parquet-expected/1, via make_expected.py), plus
"arrow_fields": for each top-level field, pyarrow's type and the field's extension metadata, so a
test can assert that pyarrow (and so Ray) sees our tensor columns as tensors.

Usage: python3 Tests/Fixtures/expect_with_pyarrow.py FILE.parquet...
"""
import sys
from pathlib import Path

import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parent))
import make_parquet_fixtures as fixtures  # noqa: E402


def arrow_fields(path):
    fields = {}
    for field in pq.read_schema(path):
        metadata = {k.decode(): v.decode("utf-8", "replace") for k, v in (field.metadata or {}).items()}
        fields[field.name] = {"type": str(field.type), "metadata": metadata}
    return fields


def main():
    me = fixtures.import_make_expected()
    for name in sys.argv[1:]:
        path = Path(name)
        fixtures.write_expected(me, path, "written by Sluice, read by pyarrow", extra={"arrow_fields": arrow_fields(path)})


if __name__ == "__main__":
    main()
