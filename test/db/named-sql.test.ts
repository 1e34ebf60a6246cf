/**
 * Named SQL composition (src/db/named-sql.ts): placeholders become $n in one place, a repeated
 * name is one parameter, dotted names read a fragment's own values, and a missing value is an
 * error naming it instead of a shifted parameter list. No database needed.
 */
import { namedSql } from '../../src/db/named-sql';

it('numbers names in order of first use and reuses a repeated one', () => {
  const stmt = namedSql('SELECT {a}::int, {b.x}, {a}::int, {b.y}');
  expect(stmt.text).toBe('SELECT $1::int, $2, $1::int, $3');
  expect(stmt.names).toEqual(['a', 'b.x', 'b.y']);
  expect(stmt.values({ a: 1, b: { x: 'x', y: null } })).toEqual([1, 'x', null]);
});

it('composes fragments by nesting, each under its own prefix', () => {
  const fragment = (k: string) => `key = {${k}.key}`;
  const stmt = namedSql(`SELECT 1 WHERE ${fragment('account')} OR ${fragment('ip')}`);
  expect(stmt.values({ account: { key: 'acct:a' }, ip: { key: 'ip:b' } })).toEqual([
    'acct:a',
    'ip:b',
  ]);
});

it.each([
  { text: "SELECT '{}'::text[]", names: [] },
  { text: "SELECT '{pwd,otp}'::text[]", names: [] },
  { text: 'SELECT $1::json', names: [] },
])('leaves $text alone', ({ text, names }) => {
  const stmt = namedSql(text);
  expect(stmt.text).toBe(text);
  expect(stmt.names).toEqual(names);
});

it.each([
  { params: {}, missing: '{a}' },
  { params: { a: 1 }, missing: '{b.x}' },
  { params: { a: 1, b: {} }, missing: '{b.x}' },
  { params: { a: undefined, b: { x: 1 } }, missing: '{a}' },
])('refuses a statement whose value $missing is missing', ({ params, missing }) => {
  expect(() => namedSql('SELECT {a}, {b.x}').values(params)).toThrow(
    `SQL parameter ${missing} has no value`,
  );
});
