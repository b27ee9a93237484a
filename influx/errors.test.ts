import { describe, expect, it } from 'vitest';
import { InfluxError, isInfluxError } from './errors.ts';

describe('InfluxError', () => {
  it('marks only transient failures retryable and keeps the cause', () => {
    const cause = new Error('ECONNREFUSED');
    const err = new InfluxError('INFLUX_ERR_UNREACHABLE', 'down', { cause });
    expect(err.retryable).toBe(true);
    expect(err.cause).toBe(cause);
    expect(new InfluxError('INFLUX_ERR_BAD_REQUEST', 'bad').retryable).toBe(false);
    expect(new InfluxError('INFLUX_ERR_AUTH', 'no').retryable).toBe(false);
    expect(isInfluxError(err, 'INFLUX_ERR_UNREACHABLE')).toBe(true);
    expect(isInfluxError(err, 'INFLUX_ERR_AUTH')).toBe(false);
  });
});
