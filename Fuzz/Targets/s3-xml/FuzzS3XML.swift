import FuzzSupport
@testable import ObjectStore

// An S3-compatible server's answer bodies: the XML reader, the ListObjectsV2 page parser (with its URL
// decoding of keys) and the error-body parser.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzS3XML(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let body = Array(fuzzBytes(data, size))
    if let root = try? XMLElement.parse(body) {
        _ = root.value("Key")
        _ = root.children("Contents").count
    }
    _ = try? S3Client.parseListPage(body, bucket: "bucket", prefix: "prefix/")
    let error = S3ErrorBody(body)
    _ = (error.code, error.message, error.requestID)
    return 0
}

@_cdecl("fuzz_s3_xml_main")
public func fuzzS3XMLMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, fuzzS3XML)
}
