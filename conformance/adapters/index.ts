/** The adapter contract in one import: common types, the three model interfaces and the guard. */
export * from './common';
export * from './log-model';
export * from './queue-model';
export * from './broker-model';
export * from './guard';
