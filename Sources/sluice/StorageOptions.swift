import ArgumentParser
import ObjectStore

/// The S3 flags every command that takes a URL accepts; the environment and ~/.aws fill in the rest,
/// as for the AWS CLI.
struct StorageOptions: ParsableArguments {
    @Option(help: ArgumentHelp("S3-compatible endpoint, e.g. http://127.0.0.1:9000 (default: AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, the profile's endpoint_url, else AWS).", valueName: "url"))
    var endpointURL: String?

    @Option(help: "AWS region (default: AWS_REGION, AWS_DEFAULT_REGION, the profile's region, else us-east-1).")
    var region: String?

    @Option(help: "Profile in ~/.aws/credentials and ~/.aws/config (default: AWS_PROFILE, else default).")
    var profile: String?

    @Flag(help: "Send unsigned requests (public buckets), as the AWS CLI's --no-sign-request.")
    var noSignRequest = false

    @Option(help: "Bucket addressing: auto, path or virtual (auto: virtual-hosted on AWS, path style on other endpoints).")
    var addressing: String?

    @Option(help: "Most S3 requests in flight at once.")
    var maxRequests: Int?

    func makeStorage() throws -> ObjectStorage {
        var options = S3Options(endpointURL: endpointURL, region: region, profile: profile, noSignRequest: noSignRequest)
        if let addressing {
            guard let style = S3Addressing(rawValue: addressing) else {
                throw ValidationError("--addressing must be auto, path or virtual")
            }
            options.addressing = style
        }
        if let maxRequests {
            guard maxRequests > 0 else { throw ValidationError("--max-requests must be positive") }
            options.tuning.maxConcurrentRequests = maxRequests
        }
        return ObjectStorage(s3: options)
    }
}
