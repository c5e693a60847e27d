import type { Migration } from 'kysely';
import * as m0001 from './0001_initial.js';
import * as m0002 from './0002_health.js';
import * as m0003 from './0003_metrics.js';
import * as m0004 from './0004_deploy.js';
import * as m0005 from './0005_queue.js';
import * as m0006 from './0006_audit_fields.js';
import * as m0007 from './0007_alerts.js';
import * as m0008 from './0008_bounds.js';
import * as m0009 from './0009_identity.js';
import * as m0013 from './0013_sleep.js';
import * as m0014 from './0014_outcome.js';
import * as m0015 from './0015_health_path.js';
import * as m0016 from './0016_incident_ack.js';
import * as m0017 from './0017_replicas.js';
import * as m0018 from './0018_admin31.js';
import * as m0019 from './0019_archives.js';

/** Every migration, in order. Add new ones at the end; never edit a landed one. */
export const migrations: Record<string, Migration> = {
  '0001_initial': m0001,
  '0002_health': m0002,
  '0003_metrics': m0003,
  '0004_deploy': m0004,
  '0005_queue': m0005,
  '0006_audit_fields': m0006,
  '0007_alerts': m0007,
  '0008_bounds': m0008,
  '0009_identity': m0009,
  '0013_sleep': m0013,
  '0014_outcome': m0014,
  '0015_health_path': m0015,
  '0016_incident_ack': m0016,
  '0017_replicas': m0017,
  '0018_admin31': m0018,
  '0019_archives': m0019,
};
