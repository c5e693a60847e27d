/**
 * An EnvironmentFile: one KEY="value" per line. Values are validated to hold no
 * control characters (src/rules.ts); inside double quotes systemd takes \\, \", \` and \$ literally.
 */
export const renderEnvFile = (env: Record<string, string>): string =>
  `# Managed by pocketd\n${Object.entries(env)
    .map(([k, v]) => `${k}="${v.replace(/[\\"`$]/g, (c) => `\\${c}`)}"`)
    .join('\n')}\n`;
