import Parquet
import Testing

/// The `ParquetError` that `body` throws, nil if it throws none; any other error is recorded as a failure.
func parquetError(_ body: () throws -> Void) -> ParquetError? {
    do {
        try body()
        return nil
    } catch let error as ParquetError {
        return error
    } catch {
        Issue.record("non-Parquet error \(error)")
        return nil
    }
}
