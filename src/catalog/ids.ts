import { randomFillSync } from 'node:crypto';

/*
 * ULID-style ids (https://github.com/ulid/spec): 10 Crockford base32 chars of milliseconds, then 16 of
 * randomness. Hand-written because it is a dozen lines and no ULID package is installed; monotonic within
 * a millisecond (the random part is incremented), so ids sort in creation order within one process.
 */
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const TIME_LEN = 10;
const RANDOM_LEN = 16;
const MAX_TIME = 2 ** 48 - 1;

let lastTime = -1;
let lastRandom: number[] = [];

// Randomness for 256 ids at a time (as Node's randomUUID does): one call into OpenSSL per id cost more
// than the rest of making it. Each byte is used once.
const pool = Buffer.allocUnsafe(256 * RANDOM_LEN);
let poolAt = pool.length;

function randomDigits(): number[] {
  if (poolAt === pool.length) {
    randomFillSync(pool);
    poolAt = 0;
  }
  const digits = Array.from(pool.subarray(poolAt, poolAt + RANDOM_LEN), (b) => b & 31);
  poolAt += RANDOM_LEN;
  return digits;
}

/** Adds one to the base32 digits; false when they were all at the maximum. */
function increment(digits: number[]): boolean {
  for (let i = digits.length - 1; i >= 0; i--) {
    if (digits[i]! < 31) {
      digits[i]! += 1;
      return true;
    }
    digits[i] = 0;
  }
  return false;
}

function encodeTime(ms: number): string {
  let out = '';
  let rest = ms;
  for (let i = 0; i < TIME_LEN; i++) {
    out = ALPHABET[rest % 32] + out;
    rest = Math.floor(rest / 32);
  }
  return out;
}

/** A 26-character time-ordered id. */
export function newUlid(now: number = Date.now()): string {
  // A clock that steps back must not reorder ids: keep using the last time seen.
  let time = Math.max(now, lastTime);
  if (time === lastTime) {
    // 80 random bits overflow only after 2^80 ids in one millisecond; then borrow the next millisecond.
    if (!increment(lastRandom)) {
      time += 1;
      lastRandom = randomDigits();
    }
  } else {
    lastRandom = randomDigits();
  }
  if (time > MAX_TIME) throw new RangeError('time is beyond what a ULID can encode');
  lastTime = time;
  return encodeTime(time) + lastRandom.map((d) => ALPHABET[d]).join('');
}

const ULID_RE = /^[0-7][0-9A-HJKMNP-TV-Z]{25}$/;

export function newImageId(now?: number): string {
  return `img_${newUlid(now)}`;
}

export function isImageId(value: unknown): value is string {
  return (
    typeof value === 'string' &&
    value.length === 30 &&
    value.startsWith('img_') &&
    ULID_RE.test(value.slice(4))
  );
}

/** Generic prefixed id for other tables (`key_…`, `app_…`). */
export function newId(prefix: string, now?: number): string {
  return `${prefix}_${newUlid(now)}`;
}

/** The creation time encoded in a ULID or a prefixed id. */
export function idTime(id: string): Date {
  const ulid = id.slice(id.lastIndexOf('_') + 1);
  let ms = 0;
  for (const ch of ulid.slice(0, TIME_LEN)) {
    const digit = ALPHABET.indexOf(ch);
    if (digit < 0) throw new RangeError(`not a ULID: ${id}`);
    ms = ms * 32 + digit;
  }
  return new Date(ms);
}
