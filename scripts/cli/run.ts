/**
 * Runs one CLI invocation: finds the command, parses its options, opens the services only
 * once the arguments are known to be good (so bad arguments change nothing), prints the result
 * and closes the database. Returns the exit code: 0 done, 1 refused or failed, 2 bad arguments.
 */
import pino from 'pino';
import { AdminError } from '../../src/admin/users';
import { ConfigError, loadConfig } from '../../src/config';
import { KekError } from '../../src/keys/envelope';
import { openServices } from '../../src/server';
import type { Services } from '../../src/services';
import { createLogger } from '../../src/shared/logger';
import { describeOptions, parseArgs } from './args';
import { commandGroups } from './commands';
import { UsageError, type CliContext, type Command } from './types';

export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  stdin(): Promise<string>;
  env: NodeJS.ProcessEnv;
}

export function usage(group?: string): string {
  const groups = group && commandGroups[group] ? [group] : Object.keys(commandGroups);
  const lines = ['usage: tessera <group> <command> [options] [--json]', ''];
  for (const g of groups) {
    for (const [sub, cmd] of Object.entries(commandGroups[g]!)) {
      lines.push(`  ${commandUsage(g, sub, cmd)}`, `      ${cmd.summary}`);
    }
  }
  lines.push('', '--json prints one JSON value (snake_case keys) instead of a table.');
  return lines.join('\n');
}

function commandUsage(group: string, sub: string, cmd: Command): string {
  return [`tessera ${group} ${sub}`, cmd.usage ?? describeOptions(cmd.options)]
    .filter(Boolean)
    .join(' ');
}

export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const json = argv.includes('--json');
  const help = argv.includes('--help') || argv.includes('-h') || argv[0] === 'help';
  const rest = argv.filter((a) => a !== '--json' && a !== '--help' && a !== '-h');
  const [group, sub, ...options] = rest[0] === 'help' ? rest.slice(1) : rest;
  if (help) {
    io.stdout(`${usage(group)}\n`);
    return 0;
  }
  const command = group && sub ? commandGroups[group]?.[sub] : undefined;
  if (!command) {
    const what = !group
      ? 'missing command'
      : !commandGroups[group]
        ? `unknown command group: ${group}`
        : !sub
          ? `missing ${group} command`
          : `unknown command: ${group} ${sub}`;
    io.stderr(`tessera: ${what}\n\n${usage(group)}\n`);
    return 2;
  }

  let services: Services | undefined;
  const ctx: CliContext = {
    async services() {
      if (!services) {
        const config = loadConfig(io.env);
        // Logs go to stderr so that stdout stays one clean JSON value.
        const log = createLogger(
          config.LOG_LEVEL === 'info' ? 'warn' : config.LOG_LEVEL,
          pino.destination({ fd: 2, sync: true }),
        );
        services = await openServices(config, log);
      }
      return services;
    },
    readStdin: () => io.stdin(),
  };
  try {
    const args = parseArgs(options, command.options, command.positionals ?? 0);
    const result = await command.run(args, ctx);
    io.stdout(json ? `${JSON.stringify(result.json, null, 2)}\n` : `${result.text}\n`);
    return result.exitCode ?? 0;
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr(
        `tessera: ${err.message}\n\nusage: ${commandUsage(group!, sub!, command)} [--json]\n`,
      );
      return 2;
    }
    const known =
      err instanceof AdminError || err instanceof ConfigError || err instanceof KekError;
    io.stderr(`tessera: ${known || err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  } finally {
    if (services) await services.db.close().catch(() => {});
  }
}
