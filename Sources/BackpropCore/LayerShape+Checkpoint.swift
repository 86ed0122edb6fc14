/// A layer's shape in the checkpoint format.
extension LayerShape {
    func write(to writer: inout ByteWriter) {
        writer.write(inputs)
        writer.write(units)
        writer.write(hasBias)
        writer.write(activation.rawValue)
    }

    init(reading reader: inout ByteReader) throws(CoreError) {
        let inputs = try reader.readInt(), units = try reader.readInt(), hasBias = try reader.readBool()
        guard let activation = Activation(rawValue: try reader.readString()) else {
            throw ByteReader.malformed("unknown activation")
        }
        guard inputs > 0, units > 0 else { throw ByteReader.malformed("a layer is empty") }
        self.init(inputs: inputs, units: units, hasBias: hasBias, activation: activation)
    }
}

