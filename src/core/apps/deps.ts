import type { Config } from '../../shared/config.js';
import type { Logger } from '../../shared/log.js';
import type { Privileged } from '../../host/privileged.js';
import type { ReleaseSource } from '../../host/releases.js';
import type { Systemd } from '../../host/systemd/units.js';
import type { AppHost } from './host.js';
import type { AppStore } from './store.js';
import type { Bundles } from '../bundles.js';
import type { Deployments } from '../deployments/engine.js';
import type { EventBus } from '../events.js';

/**
 * What the rooms of the app core share, built once in the entry point: the
 * store's apps, their files on the host, the helper, the deployment engine.
 */
export interface AppDeps {
  config: Config;
  log: Logger;
  store: AppStore;
  host: AppHost;
  privileged: Privileged;
  systemd: Systemd;
  releases: ReleaseSource;
  bundles: Bundles;
  deployments: Deployments;
  events: EventBus;
  /**
   * Told when a delete has moved an app's data into the archive (before the app's record goes): what
   * archive-app printed. The archives (core/archives/) keep the app's settings and sealed env with it.
   */
  onArchived?: (name: string, helperSaid: string) => Promise<void>;
}
