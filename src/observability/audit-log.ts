/**
 * The audit log: security-relevant events (logins and lockouts, revocations, reuse detection,
 * account and client changes, key rotation); the purge job drops them after AUDIT_RETENTION_DAYS.
 */

export interface AuditEventInput {
  type: string;
  userId?: string | null;
  clientId?: string | null;
  ip?: string | null;
  requestId?: string | null;
  details?: Record<string, unknown>;
}

export interface AuditEventRecord extends Required<Omit<AuditEventInput, 'details'>> {
  id: string;
  at: Date;
  details: Record<string, unknown>;
}

export interface AuditLog {
  record(event: AuditEventInput): Promise<void>;
  list(filter: {
    userId?: string;
    type?: string;
    since?: Date;
    limit?: number;
  }): Promise<AuditEventRecord[]>;
}
