/** The token inspector's text output: header, payload, times, each check, then the verdict. */
import type { CheckStatus, TokenReport } from './inspect-token';

const MARK: Record<CheckStatus, string> = { ok: 'ok  ', failed: 'FAIL', not_checked: '--  ' };

export function renderReport(report: TokenReport): string {
  const lines: string[] = [];
  if (report.header) lines.push('header', indent(JSON.stringify(report.header, null, 2)), '');
  if (report.payload) lines.push('payload', indent(JSON.stringify(report.payload, null, 2)), '');
  if (report.times.length) {
    const width = Math.max(...report.times.map((t) => t.claim.length));
    lines.push(
      'times',
      ...report.times.map((t) => `  ${t.claim.padEnd(width)}  ${t.date}  (${t.relative})`),
      '',
    );
  }
  if (report.issuer.source === 'token_unverified')
    lines.push(
      `issuer: ${report.issuer.value} — TAKEN FROM THE UNVERIFIED TOKEN (pass --issuer to pin it)`,
      '',
    );
  // "signature: valid" appears only when jose verified it with the key's pinned algorithm.
  const sig =
    report.signature.status === 'valid'
      ? 'valid'
      : report.signature.status === 'invalid'
        ? 'INVALID'
        : 'not verified';
  lines.push(`signature: ${sig} — ${report.signature.detail}`, '');
  if (report.checks.length) {
    const width = Math.max(...report.checks.map((c) => c.name.length));
    lines.push(
      'checks',
      ...report.checks.map((c) => `  ${MARK[c.status]}  ${c.name.padEnd(width)}  ${c.detail}`),
      '',
    );
  }
  lines.push(report.verdict);
  return lines.join('\n');
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n');
}
