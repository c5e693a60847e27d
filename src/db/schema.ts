import type { OperationKind } from '../contract/operations.js';
import type { Generated, Selectable } from 'kysely';
import type { ArchivesTable } from './schema-archives.js';

export interface UsersTable {
  id: Generated<number>;
  email: string;
  password_hash: string;
  created_at: string;
  /** The TOTP secret, sealed (secret-box.ts); null without a second factor. */
  totp_secret: string | null;
  /** A secret being enrolled, sealed, until its first code confirms it. */
  totp_pending: string | null;
  totp_enabled_at: string | null;
  /** The last step a code was accepted for: a code is taken once. */
  totp_last_step: number | null;
  /** JSON array of the sha256 of each unused recovery code. */
  totp_recovery: string | null;
}

export type TokenKind = 'api' | 'session';

export interface TokensTable {
  id: Generated<number>;
  name: string;
  kind: TokenKind;
  hash: string;
  prefix: string;
  scope: string;
  user_id: number | null;
  /** The identity of the app an app-scoped token was made for (null for admin and session tokens). */
  app_id: string | null;
  created_at: string;
  expires_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
}

export type AppStatus = 'creating' | 'ready' | 'failed' | 'deleting';

export interface AppsTable {
  name: string;
  /** The app's identity: made at create, never reused; a new app of the same name has another. */
  app_id: string;
  port: number;
  version: string;
  memory_max: string | null;
  cpu_quota: number | null;
  /** JSON object of environment variables. */
  env: string;
  status: AppStatus;
  desired_state: 'running' | 'stopped';
  created_at: string;
  updated_at: string;
  /** Number of the bundle in place, if one was deployed. */
  bundle: number | null;
  /** node-cron expression for scheduled backups; null means none. */
  backup_schedule: string | null;
  /** Scheduled and pre-deploy backups kept, each. */
  backup_keep: Generated<number>;
  /** What the gate and the checks ask for health; null is /api/health. */
  health_path: string | null;
  /** Idle seconds after which the app sleeps until its next request; null: it never sleeps. */
  sleep_after: number | null;
  /** The port the app listens on itself while it may sleep (systemd holds `port`); null otherwise. */
  wake_port: number | null;
}

export interface AppDomainsTable {
  domain: string;
  app: string;
  position: number;
}

export type DeploymentStatus =
  'queued' | 'pending' | 'running' | 'success' | 'failed' | 'rolled_back' | 'cancelled' | 'superseded';
export type StepStatus = 'pending' | 'running' | 'success' | 'failed' | 'skipped';

export interface DeploymentsTable {
  id: Generated<number>;
  app: string;
  /** The identity of the app it was asked of (null only for rows older than identities). */
  app_id: string | null;
  kind: OperationKind;
  status: DeploymentStatus;
  params: string;
  error: string | null;
  actor: string;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  /** Where the app ended, as JSON (`DeploymentOutcome`); null for kinds that do not say, and older rows. */
  outcome: string | null;
}

export interface DeploymentStepsTable {
  id: Generated<number>;
  deployment_id: number;
  position: number;
  name: string;
  status: StepStatus;
  message: string | null;
  started_at: string | null;
  finished_at: string | null;
  /** Whether the step was undone after a later one failed: `undone`, or `failed: why`. */
  undo: string | null;
}

export interface AuditLogTable {
  id: Generated<number>;
  at: string;
  actor: string;
  method: string;
  route: string;
  target: string | null;
  status: number;
  request_id: string;
  /** What the request asked to change, as JSON, secrets masked; null when it sent no JSON body. */
  fields: string | null;
}

export interface AlertChannelsTable {
  id: Generated<number>;
  name: string;
  kind: 'webhook' | 'slack' | 'discord' | 'ntfy' | 'email';
  /** JSON: what may be shown (a URL without its secret part, SMTP host and addresses). */
  settings: string;
  /** JSON: what is never shown (a URL with a token, an HMAC secret, an SMTP password). */
  secrets: string;
  created_at: string;
}

export interface AlertRulesTable {
  id: Generated<number>;
  /** JSON array of incident kinds, or ["*"]. */
  kinds: string;
  app: string | null;
  channel_id: number;
  created_at: string;
}

export interface IncidentsTable {
  id: Generated<number>;
  key: string;
  kind: string;
  app: string | null;
  title: string;
  detail: string | null;
  opened_at: string;
  closed_at: string | null;
  reminded_at: string | null;
  /** Seen by someone: reminders stop. */
  acknowledged_at: string | null;
  acknowledged_by: string | null;
  /** Messages about it (and the next incident of its key) are held back until then. */
  muted_until: string | null;
}

export interface AlertOutboxTable {
  id: Generated<number>;
  channel_id: number;
  incident_id: number | null;
  event: string;
  payload: string;
  status: 'pending' | 'sent' | 'failed';
  attempts: number;
  next_at: string;
  last_error: string | null;
  created_at: string;
  sent_at: string | null;
}

export interface LoginFailuresTable {
  key: string;
  count: number;
  last_at: string;
  locked_until: string | null;
}

export type HealthState = 'healthy' | 'unhealthy' | 'stopped' | 'sleeping';

export interface HealthChecksTable {
  id: Generated<number>;
  app: string;
  at: string;
  state: HealthState;
  http_status: number | null;
  latency_ms: number | null;
  error: string | null;
}

export interface AppMetricsTable {
  id: Generated<number>;
  app: string;
  at: string;
  /** 1 when the unit was active at the sample. */
  active: number;
  memory_bytes: number | null;
  cpu_ns: number | null;
  restarts: number;
}

export interface HostMetricsTable {
  id: Generated<number>;
  at: string;
  load1: number;
  cpu_percent: number;
  memory_total: number;
  memory_available: number;
  disk_total: number;
  disk_free: number;
}

export interface BundlesTable {
  id: Generated<number>;
  app: string;
  number: number;
  size_bytes: number;
  unpacked_bytes: number;
  files: number;
  /** JSON array of the top-level directories the bundle holds. */
  dirs: string;
  sha256: string;
  notes: string | null;
  actor: string;
  created_at: string;
}

export type BackupKind = 'manual' | 'scheduled' | 'pre-deploy';

export interface BackupsTable {
  id: Generated<number>;
  app: string;
  kind: BackupKind;
  status: 'creating' | 'ready' | 'failed';
  size_bytes: number | null;
  deployment_id: number | null;
  error: string | null;
  created_at: string;
}

/** What a queued operation will apply, apart from its public params (it may hold env values). */
export interface DeploymentInputsTable {
  deployment_id: number;
  input: string;
}

/** An app's off-host replica target and its last status (issue #27). */
export interface ReplicasTable {
  app_id: string;
  app: string;
  /** The target as JSON, secrets included: never answered. */
  target: string;
  sync_seconds: number;
  retention_hours: number;
  created_at: string;
  updated_at: string;
  checked_at: string | null;
  generation: string | null;
  last_sync_at: string | null;
  lag_seconds: number | null;
  generations: number | null;
  error: string | null;
}

export interface DB {
  archives: ArchivesTable;
  replicas: ReplicasTable;
  deployment_inputs: DeploymentInputsTable;
  bundles: BundlesTable;
  backups: BackupsTable;
  app_metrics: AppMetricsTable;
  host_metrics: HostMetricsTable;
  health_checks: HealthChecksTable;
  users: UsersTable;
  tokens: TokensTable;
  apps: AppsTable;
  app_domains: AppDomainsTable;
  deployments: DeploymentsTable;
  deployment_steps: DeploymentStepsTable;
  audit_log: AuditLogTable;
  login_failures: LoginFailuresTable;
  alert_channels: AlertChannelsTable;
  alert_rules: AlertRulesTable;
  incidents: IncidentsTable;
  alert_outbox: AlertOutboxTable;
}

export type AppRow = Selectable<AppsTable>;
export type TokenRow = Selectable<TokensTable>;
export type DeploymentRow = Selectable<DeploymentsTable>;
export type StepRow = Selectable<DeploymentStepsTable>;
export type AuditRow = Selectable<AuditLogTable>;
export type IncidentRow = Selectable<IncidentsTable>;
