import Foundation
import NIOCore

/// Tensors as raw little-endian bytes (Triton's binary tensor data extension):
/// copied, never printed or parsed.
enum BinaryTensor {
    /// `count` elements of `datatype` from `buffer`'s readable bytes at `offset`
    /// (the caller has checked they are there), as doubles.
    static func read(_ buffer: ByteBuffer, at offset: Int, count: Int, datatype: InferenceDatatype) -> [Double] {
        buffer.withUnsafeReadableBytes { raw in
            [Double](unsafeUninitializedCapacity: count) { doubles, initialized in
                switch datatype {
                case .fp64:
                    #if _endian(little)
                    if count > 0 {
                        memcpy(doubles.baseAddress!, raw.baseAddress! + offset, count * 8)
                    }
                    #else
                    for i in 0..<count {
                        let bits = raw.loadUnaligned(fromByteOffset: offset + 8 * i, as: UInt64.self)
                        doubles[i] = Double(bitPattern: UInt64(littleEndian: bits))
                    }
                    #endif
                case .fp32:
                    for i in 0..<count {
                        let bits = raw.loadUnaligned(fromByteOffset: offset + 4 * i, as: UInt32.self)
                        doubles[i] = Double(Float(bitPattern: UInt32(littleEndian: bits)))
                    }
                }
                initialized = count
            }
        }
    }

    /// Appends `values` to `buffer` as `datatype` (FP32 rounds each to the nearest float).
    static func write(_ values: [Double], as datatype: InferenceDatatype, to buffer: inout ByteBuffer) {
        switch datatype {
        case .fp64:
            #if _endian(little)
            values.withUnsafeBytes { _ = buffer.writeBytes($0) }
            #else
            for value in values { buffer.writeInteger(value.bitPattern, endianness: .little) }
            #endif
        case .fp32:
            buffer.reserveCapacity(minimumWritableBytes: values.count * 4)
            for value in values { buffer.writeInteger(Float(value).bitPattern, endianness: .little) }
        }
    }
}
