/// Redis Cluster's key → hash slot mapping: CRC16 (XMODEM) of the key, or of its hash tag (the
/// text between the first `{` and the first `}` after it, when not empty), modulo 16384.
public enum RedisClusterSlot {
    /// The number of hash slots in a Redis Cluster.
    public static let count = 16384

    /// The slot of `key` (`sb:v1:{dep}:rpm` and `sb:v1:{dep}:use` share one: the tag `dep`).
    public static func of(key: String) -> Int {
        var utf8 = Array(key.utf8)[...]
        if let open = utf8.firstIndex(of: UInt8(ascii: "{")),
           let close = utf8[(open + 1)...].firstIndex(of: UInt8(ascii: "}")), close > open + 1 {
            utf8 = utf8[(open + 1)..<close]
        }
        return Int(crc16(utf8) & 0x3FFF)
    }

    /// CRC16-CCITT (XMODEM: polynomial 0x1021, initial value 0), as the Redis Cluster spec defines it.
    static func crc16(_ bytes: ArraySlice<UInt8>) -> UInt16 {
        var crc: UInt16 = 0
        for b in bytes {
            crc ^= UInt16(b) << 8
            for _ in 0..<8 {
                crc = crc & 0x8000 != 0 ? (crc << 1) ^ 0x1021 : crc << 1
            }
        }
        return crc
    }
}
