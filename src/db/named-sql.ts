/**
 * SQL that composes by name: statement text is written with named placeholders (`{at}`,
 * `{family.id}`) and turned into PostgreSQL's positional `$n` in one place, once, when the
 * statement is defined, so no caller ever counts parameter positions. Fragments compose by
 * plain string nesting; each names its parameters under its own prefix (`{family.…}`,
 * `{audit.…}`), so two fragments cannot take each other's values, and a parameter used twice
 * is one `$n`. The result is a constant text, so it still runs as a named prepared statement
 * through the SqlExecutor (database.ts).
 *
 * A placeholder is `{` + an identifier (letters, digits, `_`, at most one `.`) + `}`; nothing
 * else is touched (a literal like `'{}'` stays as it is).
 */

const PLACEHOLDER = /\{([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)?)\}/g;

/** A statement's values by name; a dotted name reads one level into a nested object. */
export type NamedValues = Readonly<Record<string, unknown>>;

export interface NamedSql {
  /** The text with `$1…$n` in place of the names. */
  readonly text: string;
  /** The names in `$n` order. */
  readonly names: readonly string[];
  /** The values in `$n` order; throws when a name has no value (undefined), naming it. */
  values(params: NamedValues): unknown[];
}

/** Compiles a statement written with named placeholders. */
export function namedSql(source: string): NamedSql {
  const names: string[] = [];
  const text = source.replace(PLACEHOLDER, (_, name: string) => {
    let i = names.indexOf(name);
    if (i < 0) i = names.push(name) - 1;
    return `$${i + 1}`;
  });
  return {
    text,
    names,
    values: (params) => names.map((name) => valueOf(params, name)),
  };
}

function valueOf(params: NamedValues, name: string): unknown {
  const dot = name.indexOf('.');
  const value =
    dot < 0
      ? params[name]
      : (params[name.slice(0, dot)] as NamedValues | undefined)?.[name.slice(dot + 1)];
  if (value === undefined) throw new Error(`SQL parameter {${name}} has no value`);
  return value;
}
