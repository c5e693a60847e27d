// The API's types, inferred from the zod schemas of its contract (src/contract/): type-only
// imports, erased at build time. The dashboard imports nothing else from src/.
export type { AppView, AppDetail, AppState } from '../../src/contract/apps.js';
export type { ValidationReport, Check, SystemInfo, Release } from '../../src/contract/system.js';
export type { Deployment } from '../../src/contract/deployments.js';
export type { LogEntry } from '../../src/contract/logs.js';
export type { Backup } from '../../src/contract/backups.js';
export type { Bundle } from '../../src/contract/deploy.js';
export type { TokenInfo } from '../../src/contract/tokens.js';
export type { AppSample, HostMetrics } from '../../src/contract/metrics.js';
export type { AuditRow } from '../../src/contract/audit.js';
export type { FieldIssue } from '../../src/contract/common.js';
export type { AppHealth } from '../../src/contract/health.js';
export type { ChannelView, AlertRule, OutboxMessage, IncidentRow } from '../../src/contract/alerts.js';
export type { UpgradeNotes } from '../../src/contract/upgrade-notes.js';
