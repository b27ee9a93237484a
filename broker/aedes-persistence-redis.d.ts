// aedes-persistence-redis ships no types: what the broker uses of it (Aedes takes the persistence as `any`).
declare module 'aedes-persistence-redis' {
  import type { Redis } from 'ioredis';

  interface RedisPersistence {
    /** Without a callback it returns the promise of the wrapped asynchronous persistence. */
    destroy(): Promise<void>;
  }
  function persistence(options: {
    readonly conn: Redis;
    readonly maxSessionDelivery?: number;
  }): RedisPersistence;
  export default persistence;
}
