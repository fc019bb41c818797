"""Extracts raw (still compressed) pages from a Parquet file: a minimal Thrift compact-protocol
reader, enough to read a PageHeader's sizes and skip the rest."""
import pyarrow.parquet as pq


class Compact:
    def __init__(self, buf, pos):
        self.buf, self.pos = buf, pos

    def byte(self):
        b = self.buf[self.pos]
        self.pos += 1
        return b

    def varint(self):
        shift = result = 0
        while True:
            b = self.byte()
            result |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                return result

    def zigzag(self):
        n = self.varint()
        return (n >> 1) ^ -(n & 1)

    def skip(self, ftype):
        if ftype in (1, 2):          # bool true/false: value lives in the type nibble
            return None
        if ftype == 3:               # byte
            return self.byte()
        if ftype in (4, 5, 6):       # i16, i32, i64
            return self.zigzag()
        if ftype == 7:               # double
            self.pos += 8
            return None
        if ftype == 8:               # binary
            n = self.varint()
            self.pos += n
            return None
        if ftype in (9, 10):         # list, set
            head = self.byte()
            size, etype = head >> 4, head & 0x0F
            if size == 15:
                size = self.varint()
            for _ in range(size):
                if etype in (1, 2):
                    self.pos += 1
                else:
                    self.skip(etype)
            return None
        if ftype == 11:              # map
            size = self.varint()
            if size:
                kv = self.byte()
                for _ in range(size):
                    self.skip(kv >> 4)
                    self.skip(kv & 0x0F)
            return None
        if ftype == 12:              # struct
            return self.struct()
        raise ValueError(f"bad thrift type {ftype}")

    def struct(self):
        fields, last = {}, 0
        while True:
            head = self.byte()
            if head == 0:
                return fields
            delta, ftype = head >> 4, head & 0x0F
            fid = last + delta if delta else self.zigzag()
            last = fid
            fields[fid] = self.skip(ftype)


def raw_pages(path):
    """Yields (column index, page type, uncompressed size, compressed page bytes) for every page."""
    meta = pq.ParquetFile(path).metadata
    data = open(path, "rb").read()
    for rg in range(meta.num_row_groups):
        for ci in range(meta.num_columns):
            col = meta.row_group(rg).column(ci)
            start = col.data_page_offset
            if col.has_dictionary_page and col.dictionary_page_offset is not None:
                start = min(start, col.dictionary_page_offset)
            end = start + col.total_compressed_size
            pos = start
            while pos < end:
                reader = Compact(data, pos)
                header = reader.struct()
                page_type, uncompressed, compressed = header[1], header[2], header[3]
                body = data[reader.pos:reader.pos + compressed]
                yield ci, col.compression, page_type, uncompressed, body, header
                pos = reader.pos + compressed
