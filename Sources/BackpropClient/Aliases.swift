/// Short names for the generated types, within the client's namespace
/// (`BackpropClient.Network` is `Components.Schemas.Network`).
extension BackpropClient {
    public typealias Network = Components.Schemas.Network
    public typealias NetworkOut = Components.Schemas.NetworkOut
    public typealias NetworkOrReference = Components.Schemas.NetworkOrReference
    public typealias StoredNetwork = Components.Schemas.StoredNetwork
    public typealias Layer = Components.Schemas.Layer
    public typealias Activation = Components.Schemas.Activation
    public typealias Initialization = Components.Schemas.Init
    public typealias Loss = Components.Schemas.Loss
    public typealias Optimizer = Components.Schemas.Optimizer
    public typealias Samples = Components.Schemas.Samples
    public typealias Target = Components.Schemas.Target
    public typealias PerSample = Components.Schemas.PerSample
    public typealias Validation = Components.Schemas.Validation
    public typealias EarlyStopping = Components.Schemas.EarlyStopping
    public typealias ForwardRequest = Components.Schemas.ForwardRequest
    public typealias ForwardResponse = Components.Schemas.ForwardResponse
    public typealias GradientRequest = Components.Schemas.GradientRequest
    public typealias GradientResponse = Components.Schemas.GradientResponse
    public typealias TrainRequest = Components.Schemas.TrainRequest
    public typealias TrainResponse = Components.Schemas.TrainResponse
    public typealias Job = Components.Schemas.Job
    public typealias JobProgress = Components.Schemas.JobProgressEvent
    public typealias JobCancellation = Components.Schemas.JobCancelledEvent
}
