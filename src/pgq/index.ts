export { Batch, type BatchInfo } from './batch.js';
export { type BulkEventSource, bulkInsertEvents } from './bulk-insert.js';
export {
  Consumer,
  registerConsumer,
  tickChannel,
  unregisterConsumer,
} from './consumer.js';
export type { ConnectionSource } from './consumer-connection.js';
export type { ConsumerOptions } from './consumer-options.js';
export { CoopConsumer, type CoopConsumerOptions } from './coop-consumer.js';
export { Event } from './event.js';
export { copyOfEvent, type EventInput, type PayloadOptions } from './event-input.js';
export {
  LocalConsumer,
  type LocalConsumerOptions,
  type LocalEventHandler,
  type LocalHandlerContext,
  type LocalRunOptions,
} from './local-consumer.js';
export type { PositionSync } from './local-position.js';
export type { Logger } from './logger.js';
export { insertEvent, ProduceError, Producer, type ProducerOptions } from './producer.js';
export { RemoteConsumer, type RemoteConsumerOptions } from './remote-consumer.js';
export {
  type EventHandler,
  eventFailed,
  type HandlerContext,
  type RetryPolicy,
  type RunOptions,
} from './run-batch.js';
export { SerialConsumer, type SerialConsumerOptions, serialTracking } from './serial-consumer.js';
export type {
  TargetBatch,
  TargetEventHandler,
  TargetHandlerContext,
  TargetRunOptions,
} from './target-consumer.js';
export { TrackingFile } from './tracking-file.js';
export {
  decodeComponent,
  encodeComponent,
  type UrlencodedFields,
  urldecode,
  urlencode,
} from './urlencode.js';
