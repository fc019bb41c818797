import ByteIO
import NIOConcurrencyHelpers
import NIOCore

/// An S3 object read through ranged GETs, for the Parquet reader (`ByteRangeSource`).
///
/// - A read's bytes come from fetches: buffers filled by one ranged GET each. A read larger than
///   `S3Tuning.readPartSize` is split into parts fetched in parallel.
/// - `prefetch` (the pipeline calls it with the column chunks of the next row groups) coalesces ranges
///   closer than `coalesceGap`, splits them into parts and starts them at once; `read` then waits for the
///   ones it needs. Reads that follow each other (the reader's windows over a column chunk) start a
///   read-ahead of `readAheadBytes` when `sequentialReadAhead` is on.
/// - Every request goes through the client's limiter (a bounded number in flight) and its retries.
/// - Fetched bytes stay until a read has passed their end, `discardBuffers()` is called, or the buffer
///   budget (`maxBufferedBytesPerReader`) needs room; prefetch hints beyond the budget are dropped.
/// - The first ETag seen is pinned: later GETs send `If-Match`, so an object replaced mid-read fails
///   with `.changed` rather than mixing two versions.
///
/// `read` blocks its calling thread until the bytes are there; see `S3Client` for the threading rules.
public final class S3ObjectSource: PrefetchingByteRangeSource {
    public let name: String
    public let bucket: String
    public let key: String
    private let client: S3Client
    private let objectSize: Int64
    private let tuning: S3Tuning
    private let sequentialReadAhead: Bool

    private final class Fetch: Sendable {
        let range: Range<Int64>
        let future: EventLoopFuture<(FetchBuffer, RangeReply)>
        init(range: Range<Int64>, future: EventLoopFuture<(FetchBuffer, RangeReply)>) {
            self.range = range
            self.future = future
        }
    }

    private struct State {
        var fetches: [Fetch] = []
        var consumed: [ObjectIdentifier: Int64] = [:]
        var bufferedBytes: Int64 = 0
        var lastReadEnd: Int64 = -1
        var etag: String?
    }
    private let state: NIOLockedValueBox<State>

    /// Opens `s3://bucket/key`. Pass `size` (and `etag`) from a listing to save the HEAD request.
    /// `prefetchFooter` starts the reads a Parquet reader makes first (magic and the last 64 KiB).
    public init(client: S3Client, bucket: String, key: String, size: Int64? = nil, etag: String? = nil,
                sequentialReadAhead: Bool = true, prefetchFooter: Bool = true) throws {
        self.client = client
        self.bucket = bucket
        self.key = key
        name = "s3://\(bucket)/\(key)"
        tuning = client.configuration.tuning
        self.sequentialReadAhead = sequentialReadAhead
        var pinned = etag
        if let size {
            objectSize = size
        } else {
            let head = try client.headObject(bucket: bucket, key: key)
            objectSize = head.size
            pinned = pinned ?? head.etag
        }
        state = NIOLockedValueBox(State(etag: pinned))
        if prefetchFooter, objectSize > 0 {
            let tail = max(0, objectSize - 64 << 10)
            prefetch([0..<min(4, objectSize), tail..<objectSize])
        }
    }

    deinit { discardBuffers() }

    public func size() throws -> Int64 { objectSize }

    public func read(offset: Int64, count: Int) throws -> [UInt8] {
        guard offset >= 0, count >= 0, offset <= objectSize, Int64(count) <= objectSize - offset else {
            throw ByteIOError(.outOfRange, "range \(offset)..<\(offset &+ Int64(count)) lies outside the object's \(objectSize) bytes",
                              name: name, offset: offset)
        }
        if count == 0 { return [] }
        let end = offset + Int64(count)
        let pieces: [(Fetch, Range<Int64>)] = state.withLockedValue { state in
            var pieces: [(Fetch, Range<Int64>)] = []
            var position = offset
            while position < end {
                if let fetch = state.fetches.first(where: { $0.range.contains(position) }) {
                    let upper = min(end, fetch.range.upperBound)
                    pieces.append((fetch, position..<upper))
                    position = upper
                } else {
                    let nextStart = state.fetches.lazy.map(\.range.lowerBound).filter { $0 > position }.min() ?? end
                    let gapEnd = min(end, nextStart)
                    makeRoom(&state, for: gapEnd - position, keeping: pieces.map { $0.0 })
                    for fetch in startFetches(&state, position..<gapEnd) {
                        pieces.append((fetch, fetch.range))
                    }
                    position = gapEnd
                }
            }
            if sequentialReadAhead, tuning.readAheadBytes > 0, offset == state.lastReadEnd, end < objectSize {
                let ahead = end..<min(objectSize, end + Int64(tuning.readAheadBytes))
                for gap in uncovered(state, ahead) where state.bufferedBytes + Int64(gap.count) <= Int64(tuning.maxBufferedBytesPerReader) {
                    _ = startFetches(&state, gap)
                }
            }
            state.lastReadEnd = end
            return pieces
        }

        var result: [UInt8] = []
        do {
            if pieces.count == 1, pieces[0].0.range == offset..<end {
                result = try wait(pieces[0].0).bytes
            } else {
                result.reserveCapacity(count)
                for (fetch, range) in pieces {
                    let buffer = try wait(fetch)
                    let from = Int(range.lowerBound - fetch.range.lowerBound)
                    let to = Int(range.upperBound - fetch.range.lowerBound)
                    result += buffer.bytes[from..<to]
                }
            }
        } catch {
            // Forget failed fetches so that a later read asks again.
            state.withLockedValue { state in
                for (fetch, _) in pieces { remove(&state, fetch, countUnused: false) }
            }
            throw error
        }

        state.withLockedValue { state in
            for (fetch, range) in pieces {
                state.consumed[ObjectIdentifier(fetch), default: 0] += Int64(range.count)
                if fetch.range.upperBound <= end { remove(&state, fetch, countUnused: true) }
            }
        }
        return result
    }

    public func prefetch(_ ranges: [Range<Int64>]) {
        let clipped = ranges.compactMap { range -> Range<Int64>? in
            let lower = max(0, range.lowerBound), upper = min(objectSize, range.upperBound)
            return lower < upper ? lower..<upper : nil
        }.sorted { $0.lowerBound < $1.lowerBound }
        var merged: [Range<Int64>] = []
        for range in clipped {
            if let last = merged.last, range.lowerBound <= last.upperBound + Int64(tuning.coalesceGap) {
                merged[merged.count - 1] = last.lowerBound..<max(last.upperBound, range.upperBound)
            } else {
                merged.append(range)
            }
        }
        state.withLockedValue { state in
            for range in merged {
                for gap in uncovered(state, range) {
                    let room = Int64(tuning.maxBufferedBytesPerReader) - state.bufferedBytes
                    guard room > 0 else { return }
                    let take = gap.lowerBound..<min(gap.upperBound, gap.lowerBound + room)
                    _ = startFetches(&state, take)
                }
            }
        }
    }

    public func discardBuffers() {
        state.withLockedValue { state in
            for fetch in state.fetches { remove(&state, fetch, countUnused: true) }
        }
    }

    /// Bytes fetched and not yet read or dropped.
    public var bufferedBytes: Int64 { state.withLockedValue { $0.bufferedBytes } }

    // MARK: helpers (called with the lock held)

    private func startFetches(_ state: inout State, _ range: Range<Int64>) -> [Fetch] {
        var fetches: [Fetch] = []
        var start = range.lowerBound
        let part = Int64(max(1, tuning.readPartSize))
        while start < range.upperBound {
            let upper = min(range.upperBound, start + part)
            let future = client.getRangeFuture(bucket: bucket, key: key, offset: start, count: Int(upper - start), ifMatch: state.etag)
            let fetch = Fetch(range: start..<upper, future: future)
            state.fetches.append(fetch)
            state.bufferedBytes += upper - start
            fetches.append(fetch)
            start = upper
        }
        return fetches
    }

    private func uncovered(_ state: State, _ range: Range<Int64>) -> [Range<Int64>] {
        var gaps: [Range<Int64>] = []
        var position = range.lowerBound
        let sorted = state.fetches.map(\.range).filter { $0.overlaps(range) }.sorted { $0.lowerBound < $1.lowerBound }
        for covered in sorted {
            if covered.lowerBound > position { gaps.append(position..<covered.lowerBound) }
            position = max(position, covered.upperBound)
        }
        if position < range.upperBound { gaps.append(position..<range.upperBound) }
        return gaps
    }

    /// Evicts the oldest fetches (not `keeping`) until `bytes` more fit the budget.
    private func makeRoom(_ state: inout State, for bytes: Int64, keeping: [Fetch]) {
        let budget = Int64(tuning.maxBufferedBytesPerReader)
        var index = 0
        while state.bufferedBytes + bytes > budget, index < state.fetches.count {
            let fetch = state.fetches[index]
            if keeping.contains(where: { $0 === fetch }) {
                index += 1
            } else {
                remove(&state, fetch, countUnused: true)
            }
        }
    }

    private func remove(_ state: inout State, _ fetch: Fetch, countUnused: Bool) {
        guard let index = state.fetches.firstIndex(where: { $0 === fetch }) else { return }
        state.fetches.remove(at: index)
        state.bufferedBytes -= Int64(fetch.range.count)
        let used = state.consumed.removeValue(forKey: ObjectIdentifier(fetch)) ?? 0
        if countUnused, used < Int64(fetch.range.count) { client.recorder.unusedPrefetch(Int(Int64(fetch.range.count) - used)) }
    }

    /// Waits for a fetch (on this thread) and checks that the object has not changed under us.
    private func wait(_ fetch: Fetch) throws -> FetchBuffer {
        let (buffer, reply) = try fetch.future.wait()
        if let etag = reply.etag {
            let pinned = state.withLockedValue { state -> String in
                if state.etag == nil { state.etag = etag }
                return state.etag ?? etag
            }
            guard pinned == etag else {
                throw ObjectStoreError(.changed, operation: "GET", object: name, httpStatus: 200,
                                       message: "the object changed while it was being read (ETag \(pinned), now \(etag))")
            }
        }
        return buffer
    }
}
