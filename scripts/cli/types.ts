/**
 * The shapes every CLI command shares: its option spec, what it gets to run with, and what it
 * returns (one value for `--json`, and a readable rendering for people).
 */
import type { Services } from '../../src/services';

/** `string`: one value; `strings`: repeatable (`--role a --role b`); `boolean`: a bare switch. */
export type OptionKind = 'string' | 'strings' | 'boolean';

export interface OptionSpec {
  kind: OptionKind;
  /** The placeholder shown in usage (`E` in `--email E`). */
  value?: string;
  required?: boolean;
  help?: string;
}

export type Options = Record<string, OptionSpec>;

/** Parsed options: strings, string arrays (repeatable) and booleans, keyed by option name. */
export interface ParsedArgs {
  string(name: string): string | undefined;
  strings(name: string): string[];
  flag(name: string): boolean;
  /** Bare arguments, for commands that declare `positionals`. */
  positionals: readonly string[];
}

export interface CliContext {
  /** Opens (once) the same services the server uses: migrated database, loaded keys. */
  services(): Promise<Services>;
  /** Reads standard input to its end (for --password-stdin). */
  readStdin(): Promise<string>;
}

/** What a command returns: `json` is printed with --json (snake_case keys), `text` otherwise. */
export interface CommandResult {
  json: unknown;
  text: string;
  /** Exit code when the command ran but its answer is "no" (token inspect: 1 = invalid). Default 0. */
  exitCode?: number;
}

export interface Command {
  /** One line for the help listing. */
  summary: string;
  options: Options;
  /** Usage line when the option list alone does not say it (e.g. "one of A or B"). */
  usage?: string;
  /** How many bare arguments it takes before or among its options (`token inspect <jwt|->`: 1). */
  positionals?: number;
  run(args: ParsedArgs, ctx: CliContext): Promise<CommandResult>;
}

/** A command group: `tessera <group> <sub>`. */
export type CommandGroup = Record<string, Command>;

/** Bad arguments: printed with the usage, exit code 2, nothing run. */
export class UsageError extends Error {
  override name = 'UsageError';
}
