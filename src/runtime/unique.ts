import { randomBytes } from 'node:crypto';

// One draw of randomness per process, then a counter: markers and scratch names are made on every
// request, and a randomBytes call for each cost more than everything else in building them.
const PROCESS_SECRET = randomBytes(12).toString('base64url');
let counter = 0;

/**
 * A token that no other call in this process returns and that nobody outside the process can predict
 * (base64url characters and `-` only): for markers spliced into JSON and for scratch file names.
 */
export function uniqueToken(): string {
  counter += 1;
  return `${PROCESS_SECRET}-${counter.toString(36)}`;
}
