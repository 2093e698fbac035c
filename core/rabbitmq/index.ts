export { RabbitEngine } from './engine';
export { Connection } from './connection';
export { Channel } from './channel';
export type { ConfirmCallback, DeliveryRef } from './channel';
export { ConfirmChannel } from './confirm-channel';
export { ReplyCodes, amqpError } from './amqp-errors';
export type * from './types';
