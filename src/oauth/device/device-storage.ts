/**
 * Device authorization requests (RFC 8628 §3.1) as stored — only hashes of the device_code and
 * the user_code — and their repository: /device/authorization creates them, the /device page
 * records the user's decision, the device_code grant polls and redeems them.
 */

export type DeviceStatus = 'pending' | 'approved' | 'denied' | 'redeemed';

/** Who approved (or denied) the request, in which browser session and how they signed in. */
export interface DeviceDecision {
  userId: string;
  sessionId: string;
  authTime: Date;
  /** Authentication methods (RFC 8176) of the session, e.g. ["pwd"]. */
  amr: string[];
}

export interface DeviceAuthorizationRecord {
  id: string;
  clientId: string;
  scope: string;
  /** RFC 8707: the resources the request named (empty: none). */
  resources: string[];
  status: DeviceStatus;
  /** Seconds the device must leave between two polls (RFC 8628 §3.5). */
  interval: number;
  createdAt: Date;
  expiresAt: Date;
  /** Set once the user decided. */
  decision: DeviceDecision | null;
}

export interface NewDeviceAuthorization {
  deviceCodeHash: string;
  userCodeHash: string;
  clientId: string;
  scope: string;
  resources: string[];
  interval: number;
  createdAt: Date;
  expiresAt: Date;
}

/** What one poll found (DeviceAuthorizationRepository.poll). */
export interface DevicePoll {
  record: DeviceAuthorizationRecord;
  /** This poll came sooner than the interval allowed; the stored interval grew by 5 s. */
  tooFast: boolean;
}

export interface DeviceAuthorizationRepository {
  /** Stores the request; null when its user_code hash is taken (the caller draws another). */
  create(request: NewDeviceAuthorization): Promise<DeviceAuthorizationRecord | null>;
  /** The pending, unexpired request whose user_code hashes to `userCodeHash`. */
  findPendingByUserCode(userCodeHash: string, now: Date): Promise<DeviceAuthorizationRecord | null>;
  /**
   * Records the user's decision with one conditional update (still pending and unexpired at
   * `now`); false when it was decided already or has expired.
   */
  decide(id: string, approved: boolean, decision: DeviceDecision, now: Date): Promise<boolean>;
  /**
   * One poll by the device, in one statement: records its time and, when it comes sooner than
   * `interval` seconds after the previous poll, adds `slowDownSeconds` to the interval for this
   * and every later poll (RFC 8628 §3.5). Null when no request of this client has this
   * device_code hash.
   */
  poll(
    deviceCodeHash: string,
    clientId: string,
    now: Date,
    slowDownSeconds: number,
  ): Promise<DevicePoll | null>;
  /**
   * Marks an approved request redeemed with one conditional update (status approved); true
   * only for the single caller that redeemed it.
   */
  redeem(id: string, now: Date): Promise<boolean>;
}
