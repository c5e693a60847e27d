import { loadConfig } from '../shared/config.js';
import { startDaemon } from '../main/daemon.js';
import { createLogger } from '../shared/log.js';

/** `pocketd serve`: runs the daemon until SIGTERM or SIGINT. */
export async function serve(): Promise<number> {
  const config = loadConfig();
  const log = createLogger(config.log_level);
  const daemon = await startDaemon(config, log);
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      log.info({ signal }, 'signal received');
      process.off('SIGTERM', onTerm);
      process.off('SIGINT', onInt);
      daemon.stop().then(resolve, (err: unknown) => {
        log.error({ err }, 'error while stopping');
        resolve();
      });
    };
    const onTerm = () => stop('SIGTERM');
    const onInt = () => stop('SIGINT');
    process.on('SIGTERM', onTerm);
    process.on('SIGINT', onInt);
  });
  return 0;
}
