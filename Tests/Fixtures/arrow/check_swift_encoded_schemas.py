#!/usr/bin/env python3
"""Checks that pyarrow reads back what the Swift encoder wrote (dev-loop check; the Swift tests
cannot run Python).

    ARROW_SCHEMA_DUMP=/tmp/swift_schemas.tsv swift test --scratch-path .build --filter ArrowSchemaEncodingTests
    python3 scripts/check_swift_encoded_schemas.py /tmp/swift_schemas.tsv

- fixture lines: pyarrow must decode the Swift re-encoding of each fixture's model into a schema
  equal (with metadata) to its decoding of the original pyarrow-written bytes;
- everyType line: pyarrow must decode the Swift encoding of a schema with every type, and
  pyarrow's `str(field.type)` must equal Swift's `typeDescription` (description lines).
"""
import base64
import sys

import pyarrow as pa

for name in ["arrow.fixed_shape_tensor", "arrow.variable_shape_tensor", "arrow.bool8", "arrow.uuid",
             "arrow.opaque", "arrow.json"]:
    try:
        pa.unregister_extension_type(name)
    except Exception:
        pass


def read(b64: str) -> pa.Schema:
    return pa.ipc.read_schema(pa.py_buffer(base64.b64decode(b64)))


failures = 0
every_type = None
descriptions = []
with open(sys.argv[1], encoding="utf-8") as dump:
    for line in dump.read().splitlines():
        kind, *rest = line.split("\t")
        if kind == "fixture":
            name, original, swift = rest
            expected, actual = read(original), read(swift)
            ok = expected.equals(actual, check_metadata=True)
            print(f"fixture {name}: {'OK' if ok else 'MISMATCH'}")
            if not ok:
                failures += 1
                print("  pyarrow original:\n" + str(expected) + "\n  Swift encoding:\n" + str(actual))
        elif kind == "everyType":
            every_type = read(rest[1])
            print(f"everyType: pyarrow read {len(every_type)} fields")
        elif kind == "description":
            descriptions.append(rest)

matching = 0
for name, swift_description, nullable in descriptions:
    field = every_type.field(name)
    if str(field.type) == swift_description and str(field.nullable).lower() == nullable:
        matching += 1
    else:
        failures += 1
        print(f"  {name!r}: pyarrow {field.type} (nullable={field.nullable}) vs Swift {swift_description} (nullable={nullable})")
print(f"descriptions: {matching}/{len(descriptions)} match")
print("ALL OK" if failures == 0 else f"{failures} FAILURE(S)")
sys.exit(1 if failures else 0)
