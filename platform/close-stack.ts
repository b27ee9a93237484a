// What the platform started, in order, so that it stops in reverse: one failure to close is logged and
// the rest still close.
import type { Logger } from 'pino';

/** What was started, in order, so that it can be closed in reverse. */
export interface CloseStack {
  /** Registers `close` for `value` and gives `value` back. */
  push<T>(name: string, value: T, close: (v: T) => Promise<void> | void): T;
  /** Closes in reverse order of start; one failure is logged and the rest still close. */
  closeAll(): Promise<void>;
}

export function createCloseStack(log: Logger): CloseStack {
  const closers: Array<[string, () => Promise<void> | void]> = [];
  return {
    push(name, value, close) {
      closers.push([name, () => close(value)]);
      return value;
    },
    async closeAll() {
      for (const [name, close] of closers.reverse()) {
        try {
          await close();
        } catch (err) {
          log.error({ err, component: name }, 'close failed');
        }
      }
      closers.length = 0;
    },
  };
}
