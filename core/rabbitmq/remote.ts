/** Engine access across threads: serve on the engine's thread, connect from a worker. */
export { serveRemoteEngine, RemoteEngineHost } from './remote-host';
export type { EngineLike, BatchOp, BatchReply, WireDelivery, PackedDelivery } from './remote-host';
export { connectRemoteEngine, RemoteEngine, RemoteConnection, RemoteChannel } from './remote-client';
