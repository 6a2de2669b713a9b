import { PixelError, redactSecrets, toPixelError } from '../protocol/errors.ts';

/** Prints an error the way every command does: one clear line (or JSON), and the exit code. */
export function failWith(error: unknown, json: boolean): never {
  const pixel = PixelError.isInstance(error) ? error : toPixelError(error);
  if (json) {
    process.stdout.write(`${JSON.stringify({ error: pixel.toJSON() }, null, 2)}\n`);
  } else {
    const where = pixel.field ? ` [${pixel.field}]` : '';
    process.stderr.write(`pixel: ${redactSecrets(pixel.message)}${where} (${pixel.code})\n`);
  }
  process.exit(
    pixel.code === 'invalid_argument' || pixel.code === 'failed_precondition' || pixel.code === 'not_found'
      ? 2
      : 1,
  );
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** A one-line progress indicator on stderr, only when stderr is a terminal. */
export function progressLine(enabled: boolean): (text: string) => void {
  if (!enabled || !process.stderr.isTTY) return () => {};
  return (text) => process.stderr.write(`\r\x1b[2K${text}`);
}
