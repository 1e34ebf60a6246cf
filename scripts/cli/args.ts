/**
 * A small argument parser for the CLI: `--name value`, `--name=value`, repeatable options and
 * bare switches, checked against the command's option spec. Anything it does not know is a
 * UsageError (exit 2) — a typo must never silently change what a command does.
 */
import { UsageError, type Options, type ParsedArgs } from './types';

export function parseArgs(
  argv: readonly string[],
  options: Options,
  maxPositionals = 0,
): ParsedArgs {
  const values = new Map<string, string[]>();
  const flags = new Set<string>();
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if ((!arg.startsWith('--') || arg === '-') && positionals.length < maxPositionals) {
      positionals.push(arg);
      continue;
    }
    if (!arg.startsWith('--') || arg === '--') throw new UsageError(`unexpected argument: ${arg}`);
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq === -1 ? undefined : eq);
    const spec = options[name];
    if (!spec) throw new UsageError(`unknown option: --${name}`);
    if (spec.kind === 'boolean') {
      if (eq !== -1) throw new UsageError(`--${name} takes no value`);
      flags.add(name);
      continue;
    }
    let value: string | undefined;
    if (eq !== -1) value = arg.slice(eq + 1);
    else {
      value = argv[i + 1];
      if (value === undefined || value.startsWith('--'))
        throw new UsageError(`--${name} needs a value`);
      i++;
    }
    const list = values.get(name) ?? [];
    if (spec.kind === 'string' && list.length)
      throw new UsageError(`--${name} given more than once`);
    list.push(value);
    values.set(name, list);
  }
  for (const [name, spec] of Object.entries(options)) {
    if (spec.required && !values.has(name)) throw new UsageError(`--${name} is required`);
  }
  return {
    string: (name) => values.get(name)?.[0],
    strings: (name) => values.get(name) ?? [],
    flag: (name) => flags.has(name),
    positionals,
  };
}

/** `--email E [--name N] [--role R]...` from an option spec. */
export function describeOptions(options: Options): string {
  return Object.entries(options)
    .map(([name, spec]) => {
      const text = spec.kind === 'boolean' ? `--${name}` : `--${name} ${spec.value ?? 'VALUE'}`;
      const shown = spec.required ? text : `[${text}]`;
      return spec.kind === 'strings' ? `${shown}...` : shown;
    })
    .join(' ');
}
