/**
 * Checks a command's input against the same zod schema the admin code uses, before anything is
 * opened, and reports a problem under the flag the operator typed (`--redirect-uri
 * http://evil.example/cb: plain http is allowed only for loopback ...`, never
 * `redirectUris.0`) as a UsageError: exit 2 with the usage line.
 */
import type { z } from 'zod';
import { describeIssues } from '../../src/admin/issues';
import { UsageError } from './types';

export interface FlagNames {
  /** Input field → the flag that sets it (`redirectUris` → `redirect-uri`). */
  flags: Record<string, string>;
  /** Fields whose values are never echoed (passwords). */
  secret?: readonly string[];
}

export function parseFlags<S extends z.ZodType>(
  schema: S,
  input: Record<string, unknown>,
  names: FlagNames,
): z.output<S> {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  const label = (field: string) => `--${names.flags[field] ?? field}`;
  throw new UsageError(
    describeIssues(parsed.error.issues, input, label, { secret: names.secret ?? [] }),
  );
}
