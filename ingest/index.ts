export { createIngest } from './pipeline.ts';
export type { Ingest, IngestDeps, IngestDone, IngestMetrics, Message, ReadingListener } from './pipeline.ts';
export { createSpool } from './spool.ts';
export { nodeFs, type SpoolFs } from './spool-files.ts';
export type { Spool, SpoolBatch, SpoolOptions, SpoolPosition, SpoolStats } from './spool.ts';
export { createWriter } from './writer.ts';
export type { Writer, WriterOptions, WriterStage, WriterStatus } from './writer.ts';
export { createSourceBudget, openDeadLetters, type SourceBudget } from './dead-letters.ts';
export type { DeadLetter, DeadLetterInput, DeadLetterQuery, DeadLetterStore } from './dead-letters.ts';
export {
  localDeadLetterReader,
  openSharedDeadLetters,
  type DeadLetterReader,
  type SharedDeadLetterOptions,
  type SharedDeadLetters,
} from './dead-letters-shared.ts';
export { INGEST_ERRORS, type IngestErrorCode } from './errors.ts';
export { IngestError } from './errors.ts';
