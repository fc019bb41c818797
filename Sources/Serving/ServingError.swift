/// What the server answers with a status other than 200: always JSON, never a stack trace.
public enum ServingError: Error, CustomStringConvertible, Sendable {
    case configuration(String)
    case badRequest(String)
    case payloadTooLarge(String)
    case unsupportedMediaType(String)
    case notAcceptable(String)
    case overloaded(String)
    case modelNotReady(String)
    case modelFailed(String)

    public var status: Int {
        switch self {
        case .configuration, .modelFailed: 500
        case .badRequest: 400
        case .payloadTooLarge: 413
        case .unsupportedMediaType: 415
        case .notAcceptable: 406
        case .overloaded, .modelNotReady: 503
        }
    }

    public var description: String {
        switch self {
        case let .configuration(message), let .badRequest(message), let .payloadTooLarge(message),
             let .unsupportedMediaType(message), let .notAcceptable(message), let .overloaded(message),
             let .modelNotReady(message), let .modelFailed(message):
            message
        }
    }
}
