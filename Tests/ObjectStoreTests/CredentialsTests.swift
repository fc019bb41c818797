import Foundation
import Testing
@testable import ObjectStore

/// Credentials, region and endpoint resolution, with a temporary HOME holding ~/.aws files.
struct CredentialsTests {
    static let credentialsFile = """
    # comment
    [default]
    aws_access_key_id = AKIADEFAULT
    aws_secret_access_key = default/secret+with#hash

    [dev]
    aws_access_key_id=AKIADEV
    aws_secret_access_key=dev-secret ; inline comment
    aws_session_token = dev-token

    [half]
    aws_access_key_id = AKIAHALF
    """

    static let configFile = """
    [default]
    region = eu-west-3

    [profile dev]
    region = us-west-2
    s3 =
      addressing_style = path
      endpoint_url = http://127.0.0.1:9000

    [profile fromconfig]
    aws_access_key_id = AKIACONFIG
    aws_secret_access_key = config-secret
    region = ap-south-1

    [profile assumed]
    role_arn = arn:aws:iam::123456789012:role/x
    source_profile = default
    """

    static func home() throws -> String {
        let home = try TestPaths.temporaryDirectory("home")
        try FileManager.default.createDirectory(atPath: home + "/.aws", withIntermediateDirectories: true)
        try credentialsFile.write(toFile: home + "/.aws/credentials", atomically: true, encoding: .utf8)
        try configFile.write(toFile: home + "/.aws/config", atomically: true, encoding: .utf8)
        return home
    }

    func secret(_ authentication: S3Authentication) -> String? {
        if case .signed(let credentials) = authentication { return credentials.secretAccessKey }
        return nil
    }

    @Test func parsesTheINIDialect() {
        let file = AWSConfigFile(parsing: Self.configFile)
        #expect(file.configProfile("default")?["region"] == "eu-west-3")
        #expect(file.configProfile("dev")?["s3.addressing_style"] == "path")
        #expect(file.configProfile("dev")?["s3.endpoint_url"] == "http://127.0.0.1:9000")
        #expect(file.configProfile("dev")?["region"] == "us-west-2")
        let credentials = AWSConfigFile(parsing: Self.credentialsFile)
        #expect(credentials.credentialsProfile("default")?["aws_secret_access_key"] == "default/secret+with#hash")
        #expect(credentials.credentialsProfile("dev")?["aws_secret_access_key"] == "dev-secret")
        #expect(AWSConfigFile(parsing: "[a]\r\nk = v\r\n").sections["a"]?["k"] == "v")
    }

    @Test func defaultProfileFromTheFiles() throws {
        let home = try Self.home()
        let configuration = try S3Configuration.resolve(environment: [:], homeDirectory: home)
        #expect(secret(configuration.authentication) == "default/secret+with#hash")
        #expect(configuration.region == "eu-west-3")
        #expect(configuration.endpoint == S3Endpoint(scheme: "https", host: "s3.eu-west-3.amazonaws.com", port: nil))
        #expect(configuration.isDefaultAWSEndpoint)
        #expect(configuration.usesVirtualHost(for: "my-bucket"))
        #expect(!configuration.usesVirtualHost(for: "my.dotted.bucket"))
    }

    @Test func awsProfileSelectsTheProfileAndItsSettings() throws {
        let home = try Self.home()
        let configuration = try S3Configuration.resolve(environment: ["AWS_PROFILE": "dev"], homeDirectory: home)
        guard case .signed(let credentials) = configuration.authentication else { Issue.record("not signed"); return }
        #expect(credentials.accessKeyID == "AKIADEV")
        #expect(credentials.sessionToken == "dev-token")
        #expect(configuration.region == "us-west-2")
        #expect(configuration.endpoint.description == "http://127.0.0.1:9000")
        #expect(configuration.addressing == .path)
        #expect(!configuration.usesVirtualHost(for: "bucket"))
    }

    @Test func keysInTheConfigFileWork() throws {
        let home = try Self.home()
        let configuration = try S3Configuration.resolve(S3Options(profile: "fromconfig"), environment: [:], homeDirectory: home)
        #expect(secret(configuration.authentication) == "config-secret")
        #expect(configuration.region == "ap-south-1")
    }

    @Test func environmentBeatsFilesButNotAnExplicitProfile() throws {
        let home = try Self.home()
        let environment = ["AWS_ACCESS_KEY_ID": "AKIAENV", "AWS_SECRET_ACCESS_KEY": "env-secret", "AWS_SESSION_TOKEN": "env-token",
                           "AWS_REGION": "sa-east-1", "AWS_DEFAULT_REGION": "ignored-1"]
        let fromEnvironment = try S3Configuration.resolve(environment: environment, homeDirectory: home)
        #expect(secret(fromEnvironment.authentication) == "env-secret")
        #expect(fromEnvironment.region == "sa-east-1")
        let explicitProfile = try S3Configuration.resolve(S3Options(profile: "dev"), environment: environment, homeDirectory: home)
        #expect(secret(explicitProfile.authentication) == "dev-secret")
        #expect(explicitProfile.region == "sa-east-1")  // AWS_REGION still beats the profile's region
    }

    @Test func endpointAndRegionFlagsWin() throws {
        let home = try Self.home()
        let environment = ["AWS_ENDPOINT_URL": "http://10.0.0.1:1", "AWS_ENDPOINT_URL_S3": "http://127.0.0.1:2", "AWS_DEFAULT_REGION": "eu-north-1"]
        let fromEnvironment = try S3Configuration.resolve(environment: environment, homeDirectory: home)
        #expect(fromEnvironment.endpoint.description == "http://127.0.0.1:2")
        #expect(fromEnvironment.region == "eu-north-1")
        #expect(!fromEnvironment.isDefaultAWSEndpoint)
        let fromFlags = try S3Configuration.resolve(S3Options(endpointURL: "https://minio.example:9443", region: "us-east-2"),
                                                    environment: environment, homeDirectory: home)
        #expect(fromFlags.endpoint == S3Endpoint(scheme: "https", host: "minio.example", port: 9443))
        #expect(fromFlags.endpoint.hostHeader == "minio.example:9443")
        #expect(fromFlags.region == "us-east-2")
        #expect(throws: ObjectStoreError.self) { try S3Configuration.resolve(S3Options(endpointURL: "ftp://x"), environment: [:], homeDirectory: home) }
    }

    @Test func sharedFileLocationsFromTheEnvironment() throws {
        let home = try Self.home()
        let elsewhere = try TestPaths.temporaryDirectory("aws-elsewhere")
        try "[custom]\naws_access_key_id = AKIACUSTOM\naws_secret_access_key = custom-secret\n"
            .write(toFile: elsewhere + "/creds", atomically: true, encoding: .utf8)
        let configuration = try S3Configuration.resolve(
            environment: ["AWS_SHARED_CREDENTIALS_FILE": elsewhere + "/creds", "AWS_CONFIG_FILE": elsewhere + "/none", "AWS_PROFILE": "custom"],
            homeDirectory: home)
        #expect(secret(configuration.authentication) == "custom-secret")
        #expect(configuration.region == "us-east-1")
    }

    @Test func anonymousNeedsNoCredentials() throws {
        let configuration = try S3Configuration.resolve(S3Options(noSignRequest: true), environment: [:], homeDirectory: "/nonexistent")
        #expect(configuration.authentication == .anonymous)
    }

    @Test func missingOrUnusableCredentialsSayWhatToDo() throws {
        let home = try Self.home()
        let none = #expect(throws: ObjectStoreError.self) { try S3Configuration.resolve(environment: [:], homeDirectory: "/nonexistent") }
        #expect(none?.kind == .credentials)
        #expect(none?.message.contains("--no-sign-request") == true)
        let missingProfile = #expect(throws: ObjectStoreError.self) {
            try S3Configuration.resolve(S3Options(profile: "nope"), environment: [:], homeDirectory: home)
        }
        #expect(missingProfile?.message.contains("'nope'") == true)
        let assumed = #expect(throws: ObjectStoreError.self) {
            try S3Configuration.resolve(S3Options(profile: "assumed"), environment: [:], homeDirectory: home)
        }
        #expect(assumed?.message.contains("role_arn") == true)
        let half = #expect(throws: ObjectStoreError.self) {
            try S3Configuration.resolve(S3Options(profile: "half"), environment: [:], homeDirectory: home)
        }
        #expect(half?.message.contains("only one of") == true)
    }

    @Test func secretsNeverShowInDescriptions() throws {
        let credentials = AWSCredentials(accessKeyID: "AKIAVISIBLE", secretAccessKey: "TOP-SECRET-VALUE", sessionToken: "SESSION-TOKEN-VALUE")
        var dumped = ""
        dump(credentials, to: &dumped)
        let configuration = S3Configuration(endpoint: S3Endpoint(scheme: "http", host: "127.0.0.1", port: 1), region: "us-east-1",
                                            authentication: .signed(credentials))
        var dumpedConfiguration = ""
        dump(configuration, to: &dumpedConfiguration)
        let texts = ["\(credentials)", String(describing: credentials), String(reflecting: credentials), dumped,
                     "\(configuration)", "\(S3Authentication.signed(credentials))", String(reflecting: configuration), dumpedConfiguration,
                     "\(S3Options(credentials: credentials))"]
        for text in texts {
            #expect(!text.contains("TOP-SECRET-VALUE"), "\(text)")
            #expect(!text.contains("SESSION-TOKEN-VALUE"), "\(text)")
        }
        #expect("\(credentials)".contains("AKIAVISIBLE"))
    }
}
