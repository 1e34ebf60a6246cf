/**
 * Validation of an endpoint's or a grant's parameters against its zod schema, at the HTTP
 * edge: the first problem becomes invalid_request (RFC 6749 §5.2) whose description names the
 * parameter as the client sent it (`token is required`, `password must be a string`).
 */
import type { z } from 'zod';
import { describeIssue } from '../shared/validation-messages';
import { InvalidRequest } from './errors';

export function validateParams<S extends z.ZodType>(
  schema: S,
  params: Readonly<Record<string, string>>,
): z.infer<S> {
  const parsed = schema.safeParse(params);
  if (!parsed.success) throw new InvalidRequest(describeIssue(parsed.error.issues[0]!, params));
  return parsed.data;
}
