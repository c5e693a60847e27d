// The API's types, shared with the server rather than retyped: type-only
// imports, erased at build time.
export type { AppView, AppDetail, AppState, ValidationReport } from '../../src/core/apps.js';
export type { Deployment } from '../../src/core/deployments.js';
export type { LogEntry } from '../../src/host/journal.js';
export type { Backup } from '../../src/core/backups.js';
export type { Bundle } from '../../src/core/bundles.js';
export type { TokenInfo } from '../../src/core/auth.js';
export type { AppSample, HostMetrics } from '../../src/core/metrics.js';
export type { Check } from '../../src/core/system.js';
export type { AuditRow } from '../../src/db/schema.js';
export type { FieldIssue } from '../../src/errors.js';
export type { AppHealth } from '../../src/core/health.js';
export type { SystemInfo } from '../../src/core/system.js';
export type { Release } from '../../src/host/releases.js';
export type { ChannelView } from '../../src/core/channels.js';
export type { AlertRule } from '../../src/core/alert-rules.js';
export type { OutboxMessage } from '../../src/core/alert-outbox.js';
export type { IncidentRow } from '../../src/db/schema.js';
export type { UpgradeNotes } from '../../src/core/upgrade-notes.js';
