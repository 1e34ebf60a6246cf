/**
 * Validation of an endpoint's or a grant's parameters against its zod schema, at the HTTP
 * edge: the first problem becomes invalid_request (RFC 6749 §5.2) whose description names the
 * parameter as the client sent it (`token is required`, `password must be a string`).
 * Repeatable parameters (RFC 8707 §2 `resource`, see http/middleware/body.ts) come as `lists`
 * and are validated as arrays under their own names.
 */
import type { z } from 'zod';
import { describeIssue } from '../shared/validation-messages';
import { InvalidRequest } from './errors';

export function validateParams<S extends z.ZodType>(
  schema: S,
  params: Readonly<Record<string, string>>,
  lists: Readonly<Record<string, readonly string[]>> = {},
): z.infer<S> {
  const input = Object.keys(lists).length > 0 ? { ...params, ...lists } : params;
  const parsed = schema.safeParse(input);
  if (!parsed.success) throw new InvalidRequest(describeIssue(parsed.error.issues[0]!, input));
  return parsed.data;
}
