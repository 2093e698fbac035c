export { serveRpc, connectRpc } from './rpc';
export type { Remote, RpcServer, RpcClientControls, ConnectOptions } from './rpc';
export { workerEntry } from './worker-entry';
export { toWireError, fromWireError } from './wire-error';
export type { WireError } from './wire-error';
