/**
 * The text of `ssehub --help`, generated from the settings table so it never misses one.
 * @module
 */

import { SETTINGS, type SettingName, type SettingSpec } from './config.js';
import { VERSION } from './packageInfo.js';

const specs = Object.entries(SETTINGS) as [SettingName, SettingSpec][];

/** The text of `ssehub --help`. */
export function helpText(): string {
  const rows = specs.map(([, spec]) => [`--${spec.flag} ${spec.arg}`, spec.env, spec.defaultText, spec.description] as const);
  const widths = [0, 1, 2].map((column) => Math.max(...rows.map((row) => row[column]?.length ?? 0)));
  const pad = (text: string, width: number | undefined): string => text.padEnd(width ?? 0);
  const lines = rows.map(
    ([flag, env, def, description]) => `  ${pad(flag, widths[0])}  ${pad(env, widths[1])}  ${pad(def, widths[2])}  ${description}`,
  );
  return `ssehub ${VERSION} — a standalone Server-Sent Events hub

Usage: ssehub [options]

Every option is also read from its environment variable; a flag wins over the variable.
An empty variable counts as unset. Prefer variables for secrets: flags show in \`ps\`.

  ${pad('Option', widths[0])}  ${pad('Variable', widths[1])}  ${pad('Default', widths[2])}  Meaning
${lines.join('\n')}
  -h, --help     show this help
  -v, --version  print the version

Endpoints: GET /events, POST /publish, GET /status, /healthz, /readyz, /metrics,
/dashboard/stream, and the pages /, /dashboard, /assets/*. See docs/http-api.md.

Exit codes: 0 after a graceful shutdown (SIGTERM/SIGINT), 1 when the server cannot
start or stop in time, 2 for invalid settings.
`;
}
