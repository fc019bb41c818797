import FuzzSupport

// An S3-compatible server's answer bodies through ObjectStore's XML reader (XMLTree.swift here is a link to
// Sources/ObjectStore/S3/XMLTree.swift), walked as the ListObjectsV2 and error parsers walk it. The file is
// compiled into the target rather than imported with ObjectStore so that the fuzz build needs neither NIO nor
// swift-crypto, which would take most of CI's fuzzing budget to build.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzS3XML(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let body = Array(fuzzBytes(data, size))
    guard let root = try? XMLElement.parse(body) else { return 0 }
    for item in root.children("Contents") {
        _ = (item.value("Key"), item.value("Size").flatMap(Int64.init), item.value("ETag"))
    }
    for common in root.children("CommonPrefixes") { _ = common.value("Prefix") }
    _ = (root.value("IsTruncated"), root.value("NextContinuationToken"), root.value("Code"), root.value("Message"))
    return 0
}

@_cdecl("fuzz_s3_xml_main")
public func fuzzS3XMLMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, fuzzS3XML)
}
