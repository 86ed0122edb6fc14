/// The shape of one layer, without its numbers.
struct LayerShape: Equatable {
    let inputs: Int
    let units: Int
    let hasBias: Bool
    let activation: Activation
}
