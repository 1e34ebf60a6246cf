/**
 * Reads `.env` from the working directory into the environment before the configuration is
 * parsed, for `npm start` and the CLI alike. A variable already set in the real environment
 * wins (a deployment's settings are never overridden by a file left in the folder). The file
 * is optional; its syntax is Node's own (util.parseEnv: NAME=value, # comments, quotes).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseEnv } from 'node:util';

/** Returns the names taken from the file (for a log line), or [] when there is none. */
export function loadDotEnv(env: NodeJS.ProcessEnv = process.env, dir = process.cwd()): string[] {
  let text: string;
  try {
    text = readFileSync(join(dir, '.env'), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const taken: string[] = [];
  for (const [name, value] of Object.entries(parseEnv(text))) {
    if (value === undefined || env[name] !== undefined) continue;
    env[name] = value;
    taken.push(name);
  }
  return taken;
}
