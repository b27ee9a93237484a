import { describe, expect, it } from 'vitest';
import { CodedError, errorClass, errorText, isErrorOf } from './index.ts';

const TABLE = { DEMO_ERR_ONE: 'the first thing went wrong', DEMO_ERR_TWO: 'the second thing' } as const;

class DemoError extends errorClass('DemoError', TABLE) {}
class OtherError extends CodedError<'OTHER_ERR_X'> {}
const isDemoError = isErrorOf(DemoError);

describe('a component error', () => {
  it("keeps its code and cause; its message is the thrower's detail, or the table's description", () => {
    const cause = new Error('disk full');
    const err = new DemoError('DEMO_ERR_ONE', 'segment 7', { cause });
    expect([err.name, err.code, err.message, err.cause]).toEqual([
      'DemoError',
      'DEMO_ERR_ONE',
      'segment 7',
      cause,
    ]);
    expect(new DemoError('DEMO_ERR_TWO').message).toBe(TABLE.DEMO_ERR_TWO);
    expect(new DemoError('DEMO_ERR_TWO')).not.toHaveProperty('cause');
  });

  it("is told apart from other components' errors and from plain errors, by class and by code", () => {
    const err = new DemoError('DEMO_ERR_ONE');
    expect(isDemoError(err)).toBe(true);
    expect(isDemoError(err, 'DEMO_ERR_ONE')).toBe(true);
    expect(isDemoError(err, 'DEMO_ERR_TWO')).toBe(false);
    expect(isDemoError(new OtherError('OTHER_ERR_X', 'x'))).toBe(false);
    expect(isDemoError(Object.assign(new Error('x'), { code: 'DEMO_ERR_ONE' }))).toBe(false);
  });
});

describe('errorText', () => {
  it('puts the code before the message of a coded error, and gives other errors as they are', () => {
    expect(errorText(new DemoError('DEMO_ERR_ONE', 'segment 7'))).toBe('DEMO_ERR_ONE: segment 7');
    expect(errorText(new Error('plain'))).toBe('plain');
    expect(errorText('thrown text')).toBe('thrown text');
  });
});
