/// The description of the error `body` throws; nil when it returns.
public func thrownText<T>(_ body: () async throws -> T) async -> String? {
    do {
        _ = try await body()
        return nil
    } catch {
        return "\(error)"
    }
}
