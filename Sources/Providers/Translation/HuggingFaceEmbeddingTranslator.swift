import CallModel
import NIOCore
import OpenAIWire

/// Hugging Face feature extraction → OpenAI's embeddings list.
///
/// The answer is a JSON array: one vector (`[0.1, …]`), a vector per input (`[[…], …]`, what
/// sentence-embedding models and TEI answer), or per input a vector per token (`[[[…], …], …]`,
/// what a raw encoder such as `codebert-base` answers), which is mean-pooled into one vector.
/// Vectors are copied as bytes when no pooling is needed. Hugging Face reports no token count:
/// the prompt's is estimated (four bytes a token) and marked so.
public final class HuggingFaceEmbeddingTranslator: ResponseTranslator {
    let model: String
    let promptBytes: Int
    public private(set) var usage: TokenUsage?
    public private(set) var contentBytes = 0

    public init(model: String, promptBytes: Int) {
        self.model = model
        self.promptBytes = promptBytes
    }

    public func handling(for head: UpstreamHead) -> BodyHandling { .buffer }

    public func stream(_ bytes: ByteBuffer, emit: (ByteBuffer) -> Void) throws(UpstreamFailure) {
        throw UpstreamFailure.malformed("feature extraction answers are not streamed")
    }

    public func streamEnd(emit: (ByteBuffer) -> Void) throws(UpstreamFailure) {}

    public func translate(_ body: ByteBuffer) throws(UpstreamFailure) -> ByteBuffer {
        guard let elements = JSONArrayElements.split(body) else {
            throw UpstreamFailure.malformed("Hugging Face's feature-extraction answer is not a list of vectors")
        }
        var vectors: [ByteBuffer]
        switch JSONArrayElements.firstElementLead(body) {
        case UInt8(ascii: "[")?: vectors = elements
        case nil: vectors = []
        default: vectors = [body]
        }
        for (i, vector) in vectors.enumerated() where JSONArrayElements.firstElementLead(vector) == UInt8(ascii: "[") {
            vectors[i] = try Self.meanPooled(vector)
        }
        let estimate = TokenUsage.estimate(promptBytes: promptBytes, completionBytes: 0)
        usage = TokenUsage(promptTokens: estimate.promptTokens, completionTokens: 0, estimated: true)
        var out = ByteBuffer()
        OpenAIAnswerWriter.writeEmbeddings(vectors, model: model, promptTokens: estimate.promptTokens, into: &out)
        return out
    }

    /// Token vectors (`[[…], …]`, possibly inside one more list) → their mean.
    static func meanPooled(_ tokens: ByteBuffer) throws(UpstreamFailure) -> ByteBuffer {
        var value: JSONValue
        do {
            value = try tokens.withUnsafeReadableBytes { try JSONValue.parse($0) }
        } catch {
            throw UpstreamFailure.malformed("Hugging Face sent a vector that could not be read (\(error))")
        }
        while let rows = value.arrayValue, rows.count == 1, rows[0].arrayValue?.first?.arrayValue != nil { value = rows[0] }
        guard let rows = value.arrayValue, let width = rows.first?.arrayValue?.count, width > 0 else {
            throw UpstreamFailure.malformed("Hugging Face sent token vectors of an unexpected shape")
        }
        var sum = [Double](repeating: 0, count: width)
        for row in rows {
            guard let items = row.arrayValue, items.count == width else {
                throw UpstreamFailure.malformed("Hugging Face sent token vectors of different lengths")
            }
            for (j, item) in items.enumerated() { sum[j] += item.doubleValue ?? 0 }
        }
        var out = ByteBuffer()
        out.writeJSON(.array(sum.map { .double($0 / Double(rows.count)) }))
        return out
    }

    public func classifyError(status: Int, body: ByteBuffer) -> UpstreamErrorKind { HuggingFaceErrors.classify(status: status, body: body) }

    public func clientErrorBody(status: Int, body: ByteBuffer) -> ByteBuffer? { HuggingFaceErrors.clientBody(status: status, body: body) }
}
