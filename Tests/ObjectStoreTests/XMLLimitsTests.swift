import Foundation
import NIOCore
import NIOHTTP1
import Testing
@testable import ObjectStore

/// The XML parsers bound what an answer can cost and refuse values S3 never sends.
struct XMLLimitsTests {
    static func page(size: String) -> [UInt8] {
        Array("<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>a</Key><Size>\(size)</Size></Contents></ListBucketResult>".utf8)
    }

    @Test func absurdSizesAreRefused() throws {
        let cases = [("-1", "the Size of 'a' is negative (-1)"),
                     ("5497558138881", "the Size of 'a' is 5497558138881 bytes, more than S3's 5 TiB limit"),
                     ("9223372036854775808", "the Size of 'a' is not a number: '9223372036854775808'"),
                     ("12abc", "the Size of 'a' is not a number: '12abc'")]
        for (size, message) in cases {
            let error = #expect(throws: ObjectStoreError.self) { try ListObjectsV2Page.parse(Self.page(size: size), bucket: "b", prefix: "p/") }
            #expect(error?.kind == .badResponse)
            #expect(error?.object == "s3://b/p/")
            #expect(error?.message == message)
        }
        #expect(try ListObjectsV2Page.parse(Self.page(size: "5497558138880")).objects.first?.size == 5 << 40)
        let empty = Array("<ListBucketResult><Contents><Key></Key><Size>1</Size></Contents></ListBucketResult>".utf8)
        #expect(throws: ObjectStoreError(.badResponse, operation: "list", object: "s3://bucket/", message: "<Contents> entry 0 has an empty Key")) {
            try ListObjectsV2Page.parse(empty)
        }
    }

    @Test func keysOutsideThePrefixAreReportedAsListed() throws {
        let body = Data("<ListBucketResult><EncodingType>url</EncodingType><Contents><Key>other%2F..%2Fx</Key><Size>0</Size></Contents></ListBucketResult>".utf8)
        #expect(try ListObjectsV2Page.parse(body).objects.map(\.key) == ["other/../x"])
    }

    @Test func nestingSizeAndElementCountAreBounded() {
        func parseError(_ bytes: [UInt8]) -> String {
            do {
                _ = try XMLElement.parse(bytes)
                return "parsed"
            } catch {
                return "\(error)"
            }
        }
        let deep = String(repeating: "<a>", count: 65) + String(repeating: "</a>", count: 65)
        #expect(parseError(Array(deep.utf8)).hasPrefix("elements nested more than 64 deep"))
        let fine = String(repeating: "<a>", count: 64) + String(repeating: "</a>", count: 64)
        #expect(parseError(Array(fine.utf8)) == "parsed")

        let huge = [UInt8](repeating: UInt8(ascii: " "), count: S3Limits.maxXMLBytes + 1)
        #expect(parseError(huge) == "the document has 16777217 bytes, more than the 16777216 an S3 answer may have")

        let many = "<a>" + String(repeating: "<b/>", count: XMLElement.maxElements) + "</a>"
        #expect(parseError(Array(many.utf8)).hasPrefix("more than 250000 elements"))
    }

    @Test func aRunOfAmpersandsIsLinearNotQuadratic() {
        let text = Array(("<Error><Code>" + String(repeating: "&", count: 4 << 20) + "</Code></Error>").utf8)
        let start = Date()
        #expect(throws: (any Error).self) { try XMLElement.parse(text) }
        // Quadratic, this takes hours; linear, milliseconds (generous for a loaded machine).
        #expect(Date().timeIntervalSince(start) < 5)
        #expect(S3ResponseXML.parseEveryKind(text) == 0)
    }

    @Test func anAnswerLargerThanItMayBeIsNotRetried() throws {
        let sink = CollectSink(limit: 10)
        var headers = HTTPHeaders()
        headers.add(name: "content-length", value: "11")
        #expect(throws: ResponseTooLargeError.self) { try sink.begin(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers)) }
        let streaming = CollectSink(limit: 10)
        try streaming.begin(HTTPResponseHead(version: .http1_1, status: .ok))
        try streaming.append(ByteBuffer(bytes: [UInt8](repeating: 1, count: 10)))
        #expect(throws: ResponseTooLargeError.self) { try streaming.append(ByteBuffer(bytes: [1])) }
    }

    /// A small deterministic mutation loop over valid answers: every mutant ends in a value or an error.
    /// (The libFuzzer targets run the same entry point, `S3ResponseXML.parseEveryKind`, for much longer.)
    @Test func mutatedAnswersNeverTrap() {
        let seeds = [
            "<ListBucketResult><EncodingType>url</EncodingType><IsTruncated>true</IsTruncated><NextContinuationToken>t&amp;</NextContinuationToken><Contents><Key>a%2Fb</Key><Size>1</Size><ETag>&quot;e&quot;</ETag></Contents><CommonPrefixes><Prefix>p/</Prefix></CommonPrefixes></ListBucketResult>",
            "<Error><Code>NoSuchKey</Code><Message>m &#x41;&#65;</Message><RequestId>r</RequestId></Error>",
            "<?xml version=\"1.0\"?><InitiateMultipartUploadResult><UploadId>u</UploadId></InitiateMultipartUploadResult>",
            "<ListMultipartUploadsResult><Upload><Key>key</Key><UploadId>u</UploadId></Upload></ListMultipartUploadsResult>",
            "<CompleteMultipartUploadResult><ETag><![CDATA[\"x\"]]></ETag></CompleteMultipartUploadResult><!-- c -->",
        ].map { Array($0.utf8) }
        let alphabet = Array("<>/&;#x![]-?\"' =aZ09%".utf8) + [0, 0xFF, 0xC3, 0xA9]
        var state: UInt64 = 0x5EED
        func next(_ bound: Int) -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int((state >> 33) % UInt64(max(bound, 1)))
        }
        var accepted = 0
        for round in 0..<20_000 {
            var bytes = seeds[round % seeds.count]
            for _ in 0...next(4) {
                switch next(4) {
                case 0 where !bytes.isEmpty: bytes[next(bytes.count)] = alphabet[next(alphabet.count)]
                case 1: bytes.insert(alphabet[next(alphabet.count)], at: next(bytes.count + 1))
                case 2 where !bytes.isEmpty: bytes.remove(at: next(bytes.count))
                default:
                    let from = next(bytes.count + 1), to = next(bytes.count + 1)
                    bytes.insert(contentsOf: bytes[min(from, to)..<max(from, to)], at: next(bytes.count + 1))
                }
            }
            accepted += S3ResponseXML.parseEveryKind(bytes)
        }
        #expect(accepted > 0)
    }
}
