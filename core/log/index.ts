export { CommitLog } from './commit-log';
export { IndexFile } from './index-file';
export type { CommitLogOptions, FlushPolicy, IndexFileOptions, LogRecord, RecoveryReport, RetentionOptions } from './types';
