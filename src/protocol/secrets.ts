/**
 * The secrets this process was configured with, removed by value from every text that leaves it (errors,
 * logs, catalogue rows): whatever a provider echoes back, in whatever format, the configured value is
 * not shaped like anything a pattern could know (a proxy password, a ComfyUI key, a `ya29.` token).
 *
 * Each value is also matched in the forms it travels in: JSON-escaped, URL-encoded, base64 (a Basic
 * authorization header), and a `user:password` pair with its base64.
 */

/** Variables that hold credentials (the ones marked secret in the README), beside any name ending in a secret word. */
export const SECRET_ENV_NAMES: readonly string[] = [
  'OPENAI_API_KEY',
  'STABILITY_API_KEY',
  'REPLICATE_API_TOKEN',
  'FAL_KEY',
  'BFL_API_KEY',
  'GOOGLE_API_KEY',
  'GEMINI_API_KEY',
  'GOOGLE_GENERATIVE_AI_API_KEY',
  'GOOGLE_VERTEX_ACCESS_TOKEN',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'A1111_PASSWORD',
  'COMFYUI_API_KEY',
  'PIXEL_ADMIN_KEY',
];

/** Names whose values are credentials by their ending (`…_API_KEY`, `…_TOKEN`, `…_SECRET`, `…_PASSWORD`). */
const SECRET_NAME =
  /(^|_)(API_KEY|KEY_SECRET|SECRET|SECRET_KEY|SECRET_ACCESS_KEY|TOKEN|SESSION_TOKEN|PASSWORD)$/;
/** `user:password` pairs sent as Basic authorization. */
const BASIC_PAIRS: ReadonlyArray<[user: string, password: string]> = [['A1111_USERNAME', 'A1111_PASSWORD']];
/** URLs that may carry a password (`postgres://user:pass@host`). */
const URL_NAMES: readonly string[] = ['DATABASE_URL'];

/**
 * Values shorter than this are not redacted by value: a 3-character "secret" would blank out ordinary
 * words everywhere (configure real credentials, which are far longer).
 */
export const MIN_SECRET_LENGTH = 4;
/** Variables caught only by their name's ending must hold a longer value (a flag or a port is no secret). */
const MIN_GENERIC_LENGTH = 8;
/** Values that are words of JSON itself or plain numbers: redacting them would break log lines, not protect anything. */
const NOT_A_SECRET = /^(true|false|null|undefined|-?\d+(\.\d+)?)$/i;

const values = new Set<string>();
let matcher: RegExp | undefined;
let envSeen = false;

/** Adds one secret value (and its encoded forms) to the registry. */
export function registerSecret(value: string | undefined | null): void {
  if (typeof value !== 'string') return;
  const trimmed = value.trim();
  for (const v of new Set([value, trimmed])) {
    if (v.length < MIN_SECRET_LENGTH || NOT_A_SECRET.test(v)) continue;
    for (const form of formsOf(v)) {
      if (form.length >= MIN_SECRET_LENGTH && !values.has(form)) {
        values.add(form);
        matcher = undefined;
      }
    }
    // `id:secret` keys (fal): either half may be echoed alone.
    for (const part of v.split(':')) if (part !== v && part.length >= 8) registerSecret(part);
  }
}

/** Registers every credential found in `env`: the known names, any name ending in a secret word, Basic pairs, URL passwords. */
export function registerSecretsFromEnv(env: NodeJS.ProcessEnv, extraNames: readonly string[] = []): void {
  for (const name of [...SECRET_ENV_NAMES, ...extraNames]) registerSecret(env[name]);
  for (const [name, value] of Object.entries(env)) {
    if (SECRET_NAME.test(name) && (value?.trim().length ?? 0) >= MIN_GENERIC_LENGTH) registerSecret(value);
  }
  for (const [userName, passwordName] of BASIC_PAIRS) {
    const user = env[userName]?.trim();
    const password = env[passwordName];
    if (user && password) registerSecret(`${user}:${password}`);
  }
  for (const name of URL_NAMES) {
    const raw = env[name];
    if (!raw) continue;
    try {
      const url = new URL(raw);
      registerSecret(decodeURIComponent(url.password));
    } catch {
      // not a URL: nothing to take from it
    }
  }
}

/** How many distinct forms are registered (for tests and diagnostics; never the values). */
export function registeredSecretCount(): number {
  ensureProcessEnv();
  return values.size;
}

/** Replaces every registered secret (in any of its forms) with `[redacted]`. */
export function redactRegistered(text: string): string {
  ensureProcessEnv();
  if (values.size === 0 || text.length < MIN_SECRET_LENGTH) return text;
  matcher ??= new RegExp(
    [...values]
      .sort((a, b) => b.length - a.length)
      .map(escapeRegExp)
      .join('|'),
    'g',
  );
  return text.replace(matcher, '[redacted]');
}

/** The process's own environment is always in the registry, from the first use on. */
function ensureProcessEnv(): void {
  if (envSeen) return;
  envSeen = true;
  registerSecretsFromEnv(process.env);
}

function formsOf(value: string): string[] {
  const forms = [value];
  const json = JSON.stringify(value).slice(1, -1);
  if (json !== value) forms.push(json);
  const url = encodeURIComponent(value);
  if (url !== value) forms.push(url);
  const bytes = Buffer.from(value, 'utf8');
  forms.push(bytes.toString('base64'), bytes.toString('base64url'));
  // Also the base64 without padding (some clients strip it).
  forms.push(bytes.toString('base64').replace(/=+$/, ''));
  return forms;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
