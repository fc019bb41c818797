// The byte-range sources and sinks the reader and writer take are part of this module's API.
@_exported import ByteIO
