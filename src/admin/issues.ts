/**
 * Validation issues in words a person can act on: `redirect_uris[1] http://evil.example/cb:
 * plain http is allowed only for loopback ...` for the admin API, `--redirect-uri
 * http://evil.example/cb: ...` for the CLI. The caller names the fields; values of secret
 * fields are never shown.
 */
import type { z } from 'zod';

/** How one input field is called where the input came from (`redirect_uris[1]`, `--redirect-uri`). */
export type FieldLabel = (field: string, index: number | undefined) => string;

export interface DescribeOptions {
  /** Fields whose values must never appear in a message (passwords). */
  secret?: readonly string[];
}

const SHOWN_LENGTH = 120;

export function describeIssues(
  issues: readonly z.core.$ZodIssue[],
  input: Record<string, unknown>,
  label: FieldLabel,
  options: DescribeOptions = {},
): string {
  return issues.map((issue) => describeIssue(issue, input, label, options)).join('; ');
}

function describeIssue(
  issue: z.core.$ZodIssue,
  input: Record<string, unknown>,
  label: FieldLabel,
  options: DescribeOptions,
): string {
  const [field, index] = issue.path;
  if (typeof field !== 'string') return issue.message;
  const position = typeof index === 'number' ? index : undefined;
  const raw = input[field];
  const value: unknown = options.secret?.includes(field)
    ? undefined
    : position !== undefined && Array.isArray(raw)
      ? (raw as unknown[])[position]
      : raw;
  const name = label(field, position);
  return typeof value === 'string'
    ? `${name} ${show(value)}: ${issue.message}`
    : `${name}: ${issue.message}`;
}

/** The value as given when it is plain printable text, else JSON-quoted; long ones shortened. */
function show(value: string): string {
  const short = value.length > SHOWN_LENGTH ? `${value.slice(0, SHOWN_LENGTH)}...` : value;
  return /^[\x21-\x7e]+$/.test(short) ? short : JSON.stringify(short);
}
