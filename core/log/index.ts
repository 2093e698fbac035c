export { CommitLog } from './commit-log';
export { FRAME_HEADER_BYTES, frameBytes, framePayloadLength, frameTimestamp } from './frame-layout';
export { IndexFile } from './index-file';
export type { AppendMode, CommitLogOptions, FlushPolicy, IndexFileOptions, LogRecord, RecoveryReport, RetentionOptions } from './types';
