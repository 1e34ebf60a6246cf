/**
 * The run's report: one row per scenario, the limits and the peer measured in the same run,
 * ratios against them, and pass/fail against the targets of the benchmark issue. Written as
 * bench/results/latest.json and latest.md and printed as a table.
 */
import type { LoadResult } from './load/spec';

export type Group = 'limit' | 'tessera' | 'peer';

export interface ScenarioRow {
  id: string;
  group: Group;
  name: string;
  result?: LoadResult;
  /** Peak summed RSS (MB) of the server's Node processes during this scenario. */
  peakRssMB?: number;
  /** Why it did not run (e.g. the endpoint is not implemented yet). */
  skipped?: string;
  /** A peer row measured on both sides of its Tessera counterpart: the two runs' req/s (result has their mean). */
  around?: [number, number];
}

export interface Limits {
  argon2VerifyPerSec?: number;
  argon2InFlight?: number;
  /** Every in-flight count tried for the argon2id limit, and its rate (the limit is the best). */
  argon2ByInFlight?: Record<string, number>;
  /** With the password scenario: the rates before, between and after its slices, in order (their mean is argon2ByInFlight). */
  argon2Samples?: Record<string, number>[];
  /** With the JWKS scenario: the empty route's req/s before, between and after its slices, in order (the row has their mean). */
  emptyRouteSamples?: number[];
  signPerSec: Partial<Record<'RS256' | 'ES256', number>>;
  signInFlight?: number;
}

export interface Target {
  id: string;
  description: string;
  measured: string;
  /** null: not measured in this run. */
  pass: boolean | null;
}

const byId = (rows: ScenarioRow[], id: string) => rows.find((r) => r.id === id && r.result)?.result;
const fmt = (n: number | undefined, d = 0) =>
  n === undefined
    ? '—'
    : n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
const ratio = (a: number | undefined, b: number | undefined) =>
  a !== undefined && b ? Math.round((a / b) * 100) / 100 : undefined;

export function computeRatios(
  rows: ScenarioRow[],
  limits: Limits,
): Record<string, number | undefined> {
  const rps = (id: string) => byId(rows, id)?.rps;
  return {
    'password / argon2id verify limit': ratio(rps('tessera/password'), limits.argon2VerifyPerSec),
    'jwks / empty Koa route': ratio(rps('tessera/jwks'), rps('limit/empty-koa')),
    'client_credentials ES256 / peer': ratio(
      rps('tessera/client-credentials-es256'),
      rps('peer/client-credentials-es256'),
    ),
    'client_credentials RS256 / peer': ratio(
      rps('tessera/client-credentials-rs256'),
      rps('peer/client-credentials-rs256'),
    ),
    // What DPoP adds per request: a proof verified and its jti recorded.
    'client_credentials ES256 DPoP / Bearer': ratio(
      rps('tessera/client-credentials-dpop-es256'),
      rps('tessera/client-credentials-es256'),
    ),
    'refresh ES256 / peer': ratio(rps('tessera/refresh-es256'), rps('peer/refresh-es256')),
    'refresh RS256 / peer': ratio(rps('tessera/refresh-rs256'), rps('peer/refresh-rs256')),
    'client_credentials ES256 / jose ES256 sign limit': ratio(
      rps('tessera/client-credentials-es256'),
      limits.signPerSec.ES256,
    ),
    'client_credentials RS256 / jose RS256 sign limit': ratio(
      rps('tessera/client-credentials-rs256'),
      limits.signPerSec.RS256,
    ),
  };
}

export function evaluateTargets(
  rows: ScenarioRow[],
  limits: Limits,
  tesseraPeakRssMB: number | undefined,
): Target[] {
  const r = (id: string) => byId(rows, id);
  const targets: Target[] = [];
  const add = (id: string, description: string, measured: string, pass: boolean | null) =>
    targets.push({ id, description, measured, pass });
  const known = (...xs: (number | undefined)[]) => xs.every((x) => x !== undefined);

  const pw = r('tessera/password')?.rps;
  const argon = limits.argon2VerifyPerSec;
  add(
    'password',
    'password grant ≥ 0.85 × argon2id verify limit',
    known(pw, argon) ? `${fmt(pw, 1)} vs ${fmt(argon, 1)} /s (${ratio(pw, argon)}×)` : '—',
    known(pw, argon) ? pw! >= 0.85 * argon! : null,
  );

  const cc = r('tessera/client-credentials-es256');
  add(
    'client-credentials',
    'client_credentials ES256 ≥ 2,000 req/s, p99 < 50 ms',
    cc ? `${fmt(cc.rps)} req/s, p99 ${fmt(cc.p99Ms, 1)} ms` : '—',
    cc ? cc.rps >= 2000 && cc.p99Ms < 50 : null,
  );

  const rf = r('tessera/refresh-es256');
  add(
    'refresh',
    'refresh rotation ES256 ≥ 1,000 req/s, p99 < 100 ms',
    rf ? `${fmt(rf.rps)} req/s, p99 ${fmt(rf.p99Ms, 1)} ms` : '—',
    rf ? rf.rps >= 1000 && rf.p99Ms < 100 : null,
  );

  const intro = r('tessera/introspection');
  add(
    'introspection',
    'introspection ≥ 3,000 req/s',
    intro ? `${fmt(intro.rps)} req/s` : '—',
    intro ? intro.rps >= 3000 : null,
  );

  const jwks = r('tessera/jwks')?.rps;
  const empty = r('limit/empty-koa')?.rps;
  add(
    'jwks',
    'JWKS ≥ 0.8 × empty Koa route',
    known(jwks, empty) ? `${fmt(jwks)} vs ${fmt(empty)} req/s (${ratio(jwks, empty)}×)` : '—',
    known(jwks, empty) ? jwks! >= 0.8 * empty! : null,
  );

  for (const [scenario, label] of [
    ['client-credentials-es256', 'client_credentials ES256'],
    ['client-credentials-rs256', 'client_credentials RS256'],
    ['refresh-es256', 'refresh ES256'],
    ['refresh-rs256', 'refresh RS256'],
  ] as const) {
    const t = r(`tessera/${scenario}`)?.rps;
    const p = r(`peer/${scenario}`)?.rps;
    add(
      `peer-${scenario}`,
      `${label} ≥ 1.0 × node-oidc-provider`,
      known(t, p) ? `${fmt(t)} vs ${fmt(p)} req/s (${ratio(t, p)}×)` : '—',
      known(t, p) ? t! >= p! : null,
    );
  }

  add(
    'rss',
    'peak RSS of the server ≤ 200 MB',
    tesseraPeakRssMB !== undefined ? `${fmt(tesseraPeakRssMB, 1)} MB` : '—',
    tesseraPeakRssMB !== undefined ? tesseraPeakRssMB <= 200 : null,
  );
  return targets;
}

function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)];
}

function mdTable(header: string[], rows: string[][]): string[] {
  return [
    `| ${header.join(' | ')} |`,
    `| ${header.map((_, i) => (i === 0 ? '---' : '---:')).join(' | ')} |`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ];
}

function scenarioCells(rows: ScenarioRow[]): string[][] {
  return rows.map((row) => {
    const r = row.result;
    if (!r) return [row.id, '', row.skipped ? `skipped: ${row.skipped}` : '—', '', '', '', '', ''];
    const notes = [
      `warm-up ${fmt(r.warmupMs / 1000, 1)} s`,
      `gen CPU ${fmt(r.generatorCpu * 100)}%`,
    ];
    if (r.meanChainLength !== undefined) notes.push(`chain ${fmt(r.meanChainLength)}`);
    if (row.around)
      notes.push(`mean of ${fmt(row.around[0])} before and ${fmt(row.around[1])} after Tessera's`);
    return [
      row.id,
      String(r.connections),
      fmt(r.rps),
      fmt(r.p50Ms, 1),
      fmt(r.p99Ms, 1),
      String(r.errors),
      row.peakRssMB !== undefined ? fmt(row.peakRssMB, 1) : '—',
      notes.join(', '),
    ];
  });
}

const slices = (n: number) => (n === 1 ? 'window' : `${n} slices`);

/** "best of 2 in flight 76.1/s (mean of 75.0, 77.2, 76.4, 75.8 around the password's 3 slices), 4 in flight …". */
function argonTried(limits: Limits): string {
  const tried = Object.entries(limits.argon2ByInFlight ?? {});
  if (tried.length === 0) return `${limits.argon2InFlight ?? '—'} in flight`;
  const s = limits.argon2Samples;
  const around = (n: string) =>
    s
      ? ` (mean of ${s.map((r) => fmt(r[n], 1)).join(', ')} around the password's ${slices(s.length - 1)})`
      : '';
  return `best of ${tried.map(([n, r]) => `${n} in flight ${fmt(r, 1)}/s${around(n)}`).join(', ')}`;
}

/** `wrap("mean of 27,100, 28,400, 27,900, 28,000 req/s around the JWKS scenario's 3 slices")`, or "" when the route was measured once. */
function emptyRouteAround(limits: Limits, wrap: (text: string) => string): string {
  const e = limits.emptyRouteSamples;
  return e
    ? wrap(
        `mean of ${e.map((r) => fmt(r)).join(', ')} req/s around the JWKS scenario's ${slices(e.length - 1)}`,
      )
    : '';
}

const HEADER = ['scenario', 'conn', 'req/s', 'p50 ms', 'p99 ms', 'errors', 'peak RSS MB', 'note'];
const passCell = (p: boolean | null) => (p === null ? 'not run' : p ? 'pass' : 'MISSED');

export interface ReportData {
  rows: ScenarioRow[];
  limits: Limits;
  ratios: Record<string, number | undefined>;
  targets: Target[];
}

export function textReport(d: ReportData): string {
  const lines = table(HEADER, scenarioCells(d.rows));
  lines.push(
    '',
    `limits: argon2id verify ${fmt(d.limits.argon2VerifyPerSec, 1)}/s (${argonTried(d.limits)}), jose sign RS256 ${fmt(d.limits.signPerSec.RS256)}/s, ES256 ${fmt(d.limits.signPerSec.ES256)}/s (${d.limits.signInFlight} in flight)${emptyRouteAround(d.limits, (t) => `; empty Koa route: ${t}`)}`,
  );
  lines.push(
    '',
    ...table(
      ['ratio', 'value'],
      Object.entries(d.ratios).map(([k, v]) => [k, v === undefined ? '—' : `${v}×`]),
    ),
  );
  lines.push(
    '',
    ...table(
      ['target', 'measured', 'result'],
      d.targets.map((t) => [t.description, t.measured, passCell(t.pass)]),
    ),
  );
  return lines.join('\n');
}

export function markdownReport(
  d: ReportData,
  context: { title: string; conditions: string[]; failed: string[] },
): string {
  const out = [`# ${context.title}`, '', ...context.conditions.map((c) => `- ${c}`), ''];
  if (context.failed.length) out.push(`**FAILED:** ${context.failed.join('; ')}`, '');
  out.push('## Scenarios', '', ...mdTable(HEADER, scenarioCells(d.rows)), '');
  out.push('## Limits measured in the same run', '');
  out.push(`- argon2id verify: ${fmt(d.limits.argon2VerifyPerSec, 1)}/s (${argonTried(d.limits)})`);
  out.push(
    `- jose SignJWT: RS256 ${fmt(d.limits.signPerSec.RS256)}/s, ES256 ${fmt(d.limits.signPerSec.ES256)}/s with ${d.limits.signInFlight} in flight`,
  );
  out.push(
    `- empty Koa route: see \`limit/empty-koa\` above${emptyRouteAround(d.limits, (t) => ` (${t})`)}`,
    '',
  );
  out.push(
    '## Ratios',
    '',
    ...mdTable(
      ['ratio', 'value'],
      Object.entries(d.ratios).map(([k, v]) => [k, v === undefined ? '—' : `${v}×`]),
    ),
    '',
  );
  out.push(
    '## Targets',
    '',
    ...mdTable(
      ['target', 'measured', 'result'],
      d.targets.map((t) => [t.description, t.measured, passCell(t.pass)]),
    ),
    '',
  );
  return out.join('\n');
}
