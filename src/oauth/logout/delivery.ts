/**
 * Delivers queued logout tokens (OpenID Connect Back-Channel Logout 1.0 §2.5): each is signed
 * just before the attempt and POSTed form-encoded as `logout_token` to the client's
 * `backchannel_logout_uri`, through the outbound-request policy (shared/outbound-fetch.ts: no
 * redirects, one deadline, OUTBOUND_ALLOW_PRIVATE for loopback and private targets).
 *
 * - 2xx: delivered (§2.8: the RP answers 200 on success), the row is deleted.
 * - 400: given up at once. §2.8: an RP answers 400 when the token is invalid or the logout
 *   failed; the same claims signed again would be refused again, so retrying only hammers it.
 *   A URI the policy refuses (private address, plain http) is given up the same way.
 * - anything else (another 4xx, 5xx, a redirect, a timeout, a refused connection): retried
 *   after BACKCHANNEL_LOGOUT_RETRY_BASE seconds, doubling up to BACKCHANNEL_LOGOUT_RETRY_MAX,
 *   until BACKCHANNEL_LOGOUT_GIVE_UP_AFTER after the session ended; then given up.
 *
 * Rows are claimed with FOR UPDATE SKIP LOCKED and leased for one attempt, so two instances on
 * one database never deliver the same row at once, and one that dies mid-attempt only delays
 * it until the lease ends. Every outcome is a conditional write on the attempt count, so a
 * late answer after the lease passed to another instance changes nothing. Delivery runs in the
 * background: a logout queues and wakes it (wake()), never waits for it.
 */
import type { ClientRepository } from '../../clients/client-storage';
import type { Config } from '../../config';
import type { KeyStore } from '../../keys/key-store';
import type { AuditLog } from '../../observability/audit-log';
import { metrics } from '../../observability/metrics';
import type { Clock } from '../../shared/clock';
import type { Logger } from '../../shared/logger';
import { OutboundFetchError, outboundFetch } from '../../shared/outbound-fetch';
import { mintLogoutToken } from '../../tokens/logout-token';
import type { LogoutDeliveryRecord, LogoutDeliveryRepository } from './delivery-storage';

/** Deliveries claimed per round; a round's attempts run concurrently. */
const BATCH = 20;
/** Beyond the request's own deadline, how long a claimed row stays leased to its attempt. */
const LEASE_MARGIN_MS = 30_000;
/** An RP's answer body is not used; this much is read. */
const MAX_ANSWER_BYTES = 16 * 1024;

export type LogoutDeliveryConfig = Pick<
  Config,
  | 'issuer'
  | 'DEFAULT_SIGNING_ALG'
  | 'OUTBOUND_ALLOW_PRIVATE'
  | 'BACKCHANNEL_LOGOUT_TIMEOUT_MS'
  | 'BACKCHANNEL_LOGOUT_RETRY_BASE'
  | 'BACKCHANNEL_LOGOUT_RETRY_MAX'
  | 'BACKCHANNEL_LOGOUT_POLL_INTERVAL_MS'
>;

export interface LogoutDeliveryDeps {
  repo: LogoutDeliveryRepository;
  clients: Pick<ClientRepository, 'findById'>;
  keyStore: Pick<KeyStore, 'sign'>;
  audit: AuditLog;
  clock: Clock;
  log: Logger;
  config: LogoutDeliveryConfig;
}

type Outcome =
  | { kind: 'delivered'; status: number }
  | { kind: 'rejected'; error: string; status?: number }
  | { kind: 'failed'; error: string; status?: number };

export class LogoutDelivery {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;

  constructor(private readonly deps: LogoutDeliveryDeps) {}

  /** Looks for due deliveries every BACKCHANNEL_LOGOUT_POLL_INTERVAL_MS until stop(). */
  start(): void {
    if (this.timer) return;
    this.timer = setInterval(
      () => this.wake(),
      this.deps.config.BACKCHANNEL_LOGOUT_POLL_INTERVAL_MS,
    );
    this.timer.unref();
    this.wake();
  }

  /** Stops looking and waits for the attempts under way (each bounded by its timeout). */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.again = false;
    await this.running;
  }

  /** Delivers what is due now, in the background; a no-op unless started (the CLI queues only). */
  wake(): void {
    if (!this.timer) return;
    this.deliverDue().catch((err: unknown) =>
      this.deps.log.warn(
        { err: { message: (err as Error).message } },
        'back-channel logout delivery failed; will retry',
      ),
    );
  }

  /** One pass over the due deliveries; a call during a pass makes it look once more after. */
  deliverDue(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      try {
        do {
          this.again = false;
          // A full batch may mean more are due; a stop ends the pass after the current round.
          while ((await this.round()) === BATCH && this.timer);
        } while (this.again && this.timer);
      } finally {
        this.running = undefined;
      }
    })();
    return this.running;
  }

  private async round(): Promise<number> {
    const now = this.deps.clock.now();
    const lease = new Date(
      now.getTime() + this.deps.config.BACKCHANNEL_LOGOUT_TIMEOUT_MS + LEASE_MARGIN_MS,
    );
    const due = await this.deps.repo.claimDue(now, lease, BATCH);
    // An attempt that throws (database, signing) leaves its row leased: it is tried again later.
    for (const result of await Promise.allSettled(due.map((d) => this.attempt(d))))
      if (result.status === 'rejected')
        this.deps.log.warn(
          { err: { message: (result.reason as Error).message } },
          'back-channel logout attempt failed; will retry',
        );
    return due.length;
  }

  private async attempt(d: LogoutDeliveryRecord): Promise<void> {
    const { deps } = this;
    const startedAt = deps.clock.now();
    if (startedAt.getTime() > d.giveUpAt.getTime())
      return this.giveUp(d, 'expired', { kind: 'failed', error: 'too late to try again' });
    const client = await deps.clients.findById(d.clientId);
    if (!client?.backchannelLogoutUri || client.disabled)
      return this.giveUp(d, 'rejected', {
        kind: 'rejected',
        error: 'the client no longer has a backchannel_logout_uri',
      });
    const token = await mintLogoutToken(deps.keyStore, {
      issuer: deps.config.issuer,
      client,
      userId: d.userId,
      sessionId: d.sessionId,
      jti: d.id,
      now: Math.floor(startedAt.getTime() / 1000),
      defaultAlg: deps.config.DEFAULT_SIGNING_ALG,
    });
    const outcome = await post(client.backchannelLogoutUri, token, deps.config);
    if (outcome.kind === 'delivered') {
      await deps.repo.finish(d.id, d.attempts);
      metrics.backchannelLogouts.inc({ outcome: 'delivered' });
      await deps.audit.record({
        type: 'logout.backchannel_delivered',
        userId: d.userId,
        clientId: d.clientId,
        details: { reason: d.reason, sid: d.sessionId, attempts: d.attempts },
      });
      return;
    }
    if (outcome.kind === 'rejected') return this.giveUp(d, 'rejected', outcome);
    const next = new Date(deps.clock.now().getTime() + this.backoffMs(d.attempts));
    if (next.getTime() > d.giveUpAt.getTime()) return this.giveUp(d, 'expired', outcome);
    await deps.repo.retryAt(d.id, d.attempts, next, outcome.error);
    metrics.backchannelLogouts.inc({ outcome: 'retried' });
    deps.log.debug(
      { client_id: d.clientId, attempts: d.attempts, error: outcome.error },
      'back-channel logout attempt failed; will retry',
    );
  }

  /** Seconds doubling from RETRY_BASE with each attempt made, capped at RETRY_MAX. */
  private backoffMs(attempts: number): number {
    const { BACKCHANNEL_LOGOUT_RETRY_BASE: base, BACKCHANNEL_LOGOUT_RETRY_MAX: max } =
      this.deps.config;
    return Math.min(base * 2 ** Math.min(attempts - 1, 30), max) * 1000;
  }

  private async giveUp(
    d: LogoutDeliveryRecord,
    outcome: 'rejected' | 'expired',
    last: Exclude<Outcome, { kind: 'delivered' }>,
  ): Promise<void> {
    await this.deps.repo.finish(d.id, d.attempts);
    metrics.backchannelLogouts.inc({ outcome });
    await this.deps.audit.record({
      type: 'logout.backchannel_failed',
      userId: d.userId,
      clientId: d.clientId,
      details: {
        reason: d.reason,
        sid: d.sessionId,
        attempts: d.attempts,
        outcome,
        error: last.error,
        ...(last.status === undefined ? {} : { status: last.status }),
      },
    });
  }
}

/** One POST of the logout token (§2.5); what its answer means for the delivery. */
async function post(uri: string, token: string, config: LogoutDeliveryConfig): Promise<Outcome> {
  try {
    const res = await outboundFetch(uri, {
      allowPrivate: config.OUTBOUND_ALLOW_PRIVATE,
      timeoutMs: config.BACKCHANNEL_LOGOUT_TIMEOUT_MS,
      maxBytes: MAX_ANSWER_BYTES,
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ logout_token: token }).toString(),
    });
    if (res.status >= 200 && res.status < 300) return { kind: 'delivered', status: res.status };
    const error = `the relying party answered ${res.status}`;
    return res.status === 400
      ? { kind: 'rejected', error, status: res.status }
      : { kind: 'failed', error, status: res.status };
  } catch (err) {
    if (!(err instanceof OutboundFetchError)) throw err;
    // The URI itself is refused by policy: no retry can change that.
    const permanent = ['invalid_url', 'forbidden_scheme', 'forbidden_address'].includes(err.reason);
    return { kind: permanent ? 'rejected' : 'failed', error: err.message };
  }
}
