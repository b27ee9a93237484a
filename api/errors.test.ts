import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { validatorCompiler } from 'fastify-type-provider-zod';
import { REGISTRY_ERRORS, RegistryError, type RegistryErrorCode } from '../devices/index.ts';
import { INFLUX_ERRORS, InfluxError, type InfluxErrorCode } from '../influx/index.ts';
import { API_ERRORS, ApiError, ErrorBody, toApiError, type ApiErrorCode } from './errors.ts';

describe('the error table', () => {
  it('gives every code an HTTP error status and a description', () => {
    for (const [code, entry] of Object.entries(API_ERRORS)) {
      expect(code).toMatch(/^API_ERR_[A-Z_]+$/);
      expect(entry.status).toBeGreaterThanOrEqual(400);
      expect(entry.status).toBeLessThan(600);
      expect(entry.description.length).toBeGreaterThan(20);
    }
  });

  it('takes the status of an ApiError from the table', () => {
    for (const code of Object.keys(API_ERRORS) as ApiErrorCode[]) {
      const err = new ApiError(code, 'm', { details: { x: 1 } });
      expect(err.status).toBe(API_ERRORS[code].status);
      expect(ErrorBody.parse(err.body())).toEqual({ error: { code, message: 'm', details: { x: 1 } } });
    }
  });
});

describe('mapping other errors', () => {
  it('maps every registry code to a code of the table', () => {
    const expected: Partial<Record<RegistryErrorCode, ApiErrorCode>> = {
      REGISTRY_ERR_NOT_FOUND: 'API_ERR_NOT_FOUND',
      REGISTRY_ERR_DUPLICATE: 'API_ERR_CONFLICT',
      REGISTRY_ERR_INVALID: 'API_ERR_VALIDATION',
      REGISTRY_ERR_DECOMMISSIONED: 'API_ERR_DECOMMISSIONED',
    };
    for (const code of Object.keys(REGISTRY_ERRORS) as RegistryErrorCode[]) {
      const mapped = toApiError(new RegistryError(code, 'x'));
      expect(Object.keys(API_ERRORS)).toContain(mapped.code);
      if (expected[code] !== undefined) expect(mapped.code).toBe(expected[code]);
    }
  });

  it('answers 503 for what waiting can fix and 500 for the rest, never leaking query text', () => {
    for (const code of Object.keys(INFLUX_ERRORS) as InfluxErrorCode[]) {
      const err = new InfluxError(code, 'SELECT secret FROM "x"');
      const mapped = toApiError(err);
      expect(mapped.status === 503).toBe(mapped.code === 'API_ERR_INFLUX_UNAVAILABLE');
      if (err.retryable) expect(mapped.code).toBe('API_ERR_INFLUX_UNAVAILABLE');
      if (mapped.status === 500) expect(mapped.message).not.toContain('SELECT');
    }
  });

  it("answers InfluxDB's own 400 as the client's 400, with InfluxDB's words", () => {
    const mapped = toApiError(new InfluxError('INFLUX_ERR_BAD_REQUEST', 'time outside range'));
    expect([mapped.status, mapped.code, mapped.message]).toEqual([
      400,
      'API_ERR_QUERY_REFUSED',
      'InfluxDB refused the query: time outside range',
    ]);
  });

  it("maps the type provider's validation errors to API_ERR_VALIDATION with the issues", () => {
    const validate = validatorCompiler({
      schema: z.object({ limit: z.number().max(10) }),
      method: 'GET',
      url: '/x',
      httpPart: 'querystring',
    });
    const { error } = z.object({ error: z.array(z.unknown()) }).parse(validate({ limit: 11 }));
    const err = Object.assign(new Error('querystring/limit Too big'), {
      validation: error,
      validationContext: 'querystring',
      statusCode: 400,
    });
    const mapped = toApiError(err);
    expect(mapped.code).toBe('API_ERR_VALIDATION');
    expect(mapped.details).toMatchObject({
      in: 'querystring',
      issues: [{ path: '/limit', code: 'too_big' }],
    });
  });

  it("maps Fastify's client errors and hides everything else behind API_ERR_INTERNAL", () => {
    const fst = (code: string, statusCode: number) => Object.assign(new Error(code), { code, statusCode });
    expect(toApiError(fst('FST_ERR_CTP_INVALID_MEDIA_TYPE', 415)).code).toBe(
      'API_ERR_UNSUPPORTED_MEDIA_TYPE',
    );
    expect(toApiError(fst('FST_ERR_CTP_BODY_TOO_LARGE', 413)).code).toBe('API_ERR_PAYLOAD_TOO_LARGE');
    expect(toApiError(fst('FST_ERR_SOMETHING_NEW', 400)).code).toBe('API_ERR_BAD_REQUEST');
    const internal = toApiError(new TypeError('cannot read x of undefined'));
    expect([internal.code, internal.message]).toEqual(['API_ERR_INTERNAL', 'internal error']);
    expect(toApiError('a string').code).toBe('API_ERR_INTERNAL');
  });
});
