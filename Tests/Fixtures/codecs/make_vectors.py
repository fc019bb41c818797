"""Generates Tests/ParquetTests/CodecTestVectors.swift: compressed bytes made by independent
implementations (pyarrow's codecs, the zstd/gzip command-line tools, Python's zlib/gzip, pages cut
out of parquet-testing files) with the bytes they must decompress to, and zlib.crc32 values.

Run from anywhere: python3 Tests/Fixtures/codecs/make_vectors.py
"""
import base64
import gzip
import struct
import subprocess
import zlib

import numpy as np
import pyarrow as pa

from pages import raw_pages

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
SHARED = Path(os.environ.get("SLUICE_SHARED", REPO.parent / "shared"))
DATA = str(SHARED / "data/parquet-testing/data")
OUT = str(REPO / "Tests/ParquetTests/CodecTestVectors.swift")


def image_like(n, seed):
    """Smooth gradients plus a little noise, like HWC uint8 pixels."""
    rng = np.random.default_rng(seed)
    width = 64
    rows = (n + width * 3 - 1) // (width * 3)
    y, x = np.mgrid[0:rows, 0:width]
    base = np.stack([x * 3 + y, y * 2 + 40, (x + y) * 2], axis=-1).astype(np.int32)
    noise = rng.integers(-3, 4, size=base.shape)
    return np.clip(base + noise, 0, 255).astype(np.uint8).tobytes()[:n]


def pa_compress(data, codec):
    return pa.compress(data, codec=codec, asbytes=True)


def zstd_stream(data):
    """A zstd frame that does not record its content size (pyarrow's streaming compressor)."""
    sink = pa.BufferOutputStream()
    stream = pa.CompressedOutputStream(sink, "zstd")
    stream.write(data)
    stream.close()
    return sink.getvalue().to_pybytes()


def zstd_cli(data):
    """The zstd tool reading stdin: no content size, with a content checksum."""
    return subprocess.run(["zstd", "-q", "-c", "-3"], input=data, capture_output=True, check=True).stdout


def hadoop_lz4(chunks):
    """Hadoop framing around pyarrow's raw LZ4 blocks, one frame per chunk."""
    out = b""
    for chunk in chunks:
        block = pa_compress(chunk, "lz4_raw")
        out += struct.pack(">II", len(chunk), len(block)) + block
    return out


inputs = {
    "text": b"The quick brown fox jumps over the lazy dog. 0123456789 " * 6,
    "image": image_like(1200, seed=7),
    "empty": b"",
    "random": bytes(np.random.default_rng(11).integers(0, 256, 257, dtype=np.uint8)),
    "byte": b"\x2a",
}

vectors = []  # (name, codec case, compressed, expected)
for name, data in inputs.items():
    for codec, case in [("snappy", "snappy"), ("gzip", "gzip"), ("zstd", "zstd"), ("lz4_raw", "lz4Raw")]:
        vectors.append((f"pyarrow {codec} {name}", case, pa_compress(data, codec), data))
    # pyarrow's "lz4" is the LZ4 frame format: the last fallback of Parquet's LZ4 codec.
    vectors.append((f"pyarrow lz4 frame {name}", "lz4", pa_compress(data, "lz4"), data))
    vectors.append((f"zstd stream without content size {name}", "zstd", zstd_stream(data), data))
    vectors.append((f"zstd cli {name}", "zstd", zstd_cli(data), data))
    vectors.append((f"zlib format {name}", "gzip", zlib.compress(data, 9), data))
    vectors.append((f"python gzip {name}", "gzip", gzip.compress(data, mtime=0), data))

text, image = inputs["text"], inputs["image"]
vectors.append(("gzip concatenated members", "gzip",
                gzip.compress(text[:100], mtime=0) + gzip.compress(b"", mtime=0) + gzip.compress(image, mtime=0),
                text[:100] + image))
vectors.append(("zstd concatenated frames", "zstd", pa_compress(text, "zstd") + zstd_cli(image), text + image))
vectors.append(("lz4 hadoop one frame", "lz4", hadoop_lz4([image]), image))
vectors.append(("lz4 hadoop three frames", "lz4", hadoop_lz4([text, image[:500], image[500:]]), text + image))
vectors.append(("lz4 raw block under codec LZ4", "lz4", pa_compress(image, "lz4_raw"), image))

# Real pages from parquet-testing. The expected bytes come from pyarrow's codecs, applied here
# after undoing the Hadoop framing in Python.
def unframe_hadoop(body):
    out, pos = b"", 0
    while pos < len(body):
        size, csize = struct.unpack_from(">II", body, pos)
        out += pa.decompress(body[pos + 8:pos + 8 + csize], decompressed_size=size, codec="lz4_raw", asbytes=True)
        pos += 8 + csize
    return out


for file, kind in [("hadoop_lz4_compressed", "hadoop"), ("non_hadoop_lz4_compressed", "raw")]:
    for i, (ci, _, ptype, usize, body, _) in enumerate(raw_pages(f"{DATA}/{file}.parquet")):
        if kind == "hadoop":
            expected = unframe_hadoop(body)
        else:
            expected = pa.decompress(body, decompressed_size=usize, codec="lz4_raw", asbytes=True)
        assert len(expected) == usize
        vectors.append((f"{file}.parquet page {i}", "lz4", body, expected))

for ci, _, ptype, usize, body, header in raw_pages(f"{DATA}/concatenated_gzip_members.parquet"):
    v2 = header[8]
    levels = v2[5] + v2[6]
    compressed = body[levels:]
    expected = gzip.decompress(compressed)
    assert len(expected) == usize - levels
    assert compressed.count(b"\x1f\x8b\x08") > 1
    vectors.append(("concatenated_gzip_members.parquet page 0", "gzip", compressed, expected))

# A large page read straight from the file by the test (too big to embed): offset, sizes, crc of output.
larger = []
with open(f"{DATA}/hadoop_lz4_compressed_larger.parquet", "rb") as f:
    whole = f.read()
for ci, _, ptype, usize, body, _ in raw_pages(f"{DATA}/hadoop_lz4_compressed_larger.parquet"):
    expected = unframe_hadoop(body)
    assert len(expected) == usize
    larger.append((whole.index(body), len(body), usize, zlib.crc32(expected)))

crcs = []
for name, data in inputs.items():
    crcs.append((name, data, 0, zlib.crc32(data)))
    crcs.append((name, data, 0xDEADBEEF, zlib.crc32(data, 0xDEADBEEF)))
crcs.append(("check string", b"123456789", 0, zlib.crc32(b"123456789")))


def b64(data):
    return base64.b64encode(data).decode()


lines = [
    "// Generated by scripts/make_vectors.py from independent codec implementations; do not edit.",
    "",
    "struct CodecVector: Sendable, CustomTestStringConvertible {",
    "    let name: String",
    "    let codec: CompressionCodec",
    "    let compressedBase64: String",
    "    let expectedBase64: String",
    "    var testDescription: String { name }",
    "}",
    "",
    "struct CRC32Vector: Sendable {",
    "    let name: String",
    "    let dataBase64: String",
    "    let initial: UInt32",
    "    let crc: UInt32",
    "}",
    "",
    "/// A page of hadoop_lz4_compressed_larger.parquet: where it is, its sizes, and zlib.crc32 of its decompressed bytes.",
    "struct CodecFilePageVector: Sendable {",
    "    let offset: Int",
    "    let compressedSize: Int",
    "    let uncompressedSize: Int",
    "    let crc: UInt32",
    "}",
    "",
    "enum CodecTestVectors {",
    "    static let all: [CodecVector] = [",
]
for name, case, compressed, expected in vectors:
    lines.append(f'        CodecVector(name: "{name}", codec: .{case},')
    lines.append(f'                    compressedBase64: "{b64(compressed)}",')
    lines.append(f'                    expectedBase64: "{b64(expected)}"),')
lines += ["    ]", "", "    static let crc32: [CRC32Vector] = ["]
for name, data, initial, crc in crcs:
    lines.append(f'        CRC32Vector(name: "{name}", dataBase64: "{b64(data)}", initial: 0x{initial:08X}, crc: 0x{crc:08X}),')
lines += ["    ]", "", "    static let hadoopLarger: [CodecFilePageVector] = ["]
for offset, csize, usize, crc in larger:
    lines.append(f"        CodecFilePageVector(offset: {offset}, compressedSize: {csize}, uncompressedSize: {usize}, crc: 0x{crc:08X}),")
lines += ["    ]", "}", ""]

with open(OUT, "w") as f:
    f.write("import Testing\n@testable import Parquet\n\n" + "\n".join(lines))
print(f"{len(vectors)} codec vectors, {len(crcs)} crc vectors, {len(larger)} file pages -> {OUT}")
