/**
 * One wording for validation failures, at the HTTP edge and in the config loader: the field
 * named exactly as the input spelled it, then what is wrong with it — `token is required`,
 * `grant_type must be a string`, `PORT must be a number`, `LOG_LEVEL must be one of …` —
 * instead of zod's generic "Invalid input: expected string, received undefined".
 *
 * A schema's own message (a regex's, a refinement's) is kept when it is written as the rest of
 * that sentence ("must be a non-negative integer"); zod's built-in messages, which all start
 * with a capital "Invalid"/"Too", are replaced.
 */
import type { z } from 'zod';

type Issue = z.core.$ZodIssue;

/** `<name> <problem>` for one issue; `input` is the object that was validated. */
export function describeIssue(issue: Issue, input: unknown): string {
  const [head, ...rest] = issue.path;
  if (head === undefined) return ownMessage(issue) ?? 'is invalid';
  const name = String(head);
  // An element of a list-valued field (SIGNING_ALGS=RS256,HS256).
  const subject = rest.length ? `${name} entries` : name;
  const present =
    input !== null &&
    typeof input === 'object' &&
    Object.prototype.hasOwnProperty.call(input, name) &&
    (input as Record<string, unknown>)[name] !== undefined;
  return `${subject} ${problem(issue, present)}`;
}

function problem(issue: Issue, present: boolean): string {
  switch (issue.code) {
    case 'invalid_type':
      if (!present) return 'is required';
      if (issue.expected === 'int') return 'must be an integer';
      return `must be ${article(issue.expected)} ${issue.expected}`;
    case 'too_small':
      // RFC 6749 §3.1: a parameter sent without a value is treated as omitted.
      if (issue.origin === 'string')
        return Number(issue.minimum) <= 1
          ? 'is required'
          : `must be at least ${issue.minimum} characters`;
      if (issue.origin === 'array' || issue.origin === 'set')
        return Number(issue.minimum) <= 1
          ? 'must not be empty'
          : `must list at least ${issue.minimum}`;
      return `must be at least ${issue.minimum}`;
    case 'too_big':
      if (issue.origin === 'string') return `must be at most ${issue.maximum} characters`;
      if (issue.origin === 'array' || issue.origin === 'set')
        return `must list at most ${issue.maximum}`;
      return `must be at most ${issue.maximum}`;
    case 'invalid_value':
      return `must be ${oneOf(issue.values.map(String))}`;
    case 'invalid_format':
      return ownMessage(issue) ?? (issue.format === 'url' ? 'must be a URL' : 'is malformed');
    default:
      return ownMessage(issue) ?? 'is invalid';
  }
}

/** The schema author's own wording, when it is not one of zod's built-in messages. */
function ownMessage(issue: Issue): string | undefined {
  return /^(Invalid|Too (small|big))\b/.test(issue.message) ? undefined : issue.message;
}

function oneOf(values: string[]): string {
  if (values.length === 1) return values[0]!;
  if (values.length === 2) return `${values[0]} or ${values[1]}`;
  return `one of ${values.join(', ')}`;
}

function article(word: string): string {
  return /^[aeiou]/i.test(word) ? 'an' : 'a';
}
