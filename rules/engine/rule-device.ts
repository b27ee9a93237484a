// A device as the rules see it: the registry record's parts that selection, messages and conditions read.
import type { Kind } from '../../devices/index.ts';

/** What the core reads of a registry record. */
export interface RuleDevice {
  readonly id: string;
  readonly kind: Kind;
  readonly name: string;
  readonly district: string;
  readonly tags: readonly string[];
  readonly meta: Readonly<Record<string, unknown>>;
  readonly location?: { readonly lat: number; readonly lon: number };
}
