import type { IngestErrorCode } from './errors.ts';

/** An ingest failure with its stable code (see INGEST_ERRORS in errors.ts) and the cause kept. */
export class IngestError extends Error {
  readonly code: IngestErrorCode;
  constructor(code: IngestErrorCode, message: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'IngestError';
    this.code = code;
  }
}
