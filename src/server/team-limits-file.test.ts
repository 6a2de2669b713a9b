import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PixelError } from '../protocol/errors.ts';
import { serverConfigFromEnv } from './config.ts';
import { loadTeamLimitsFile } from './team-limits-file.ts';

const dir = mkdtempSync(join(tmpdir(), 'pixel-limits-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};
const refusal = (fn: () => unknown): PixelError => {
  try {
    fn();
  } catch (error) {
    if (PixelError.isInstance(error)) return error;
    throw error;
  }
  throw new Error('expected a refusal');
};

describe('PIXEL_TEAM_LIMITS_FILE', () => {
  it('reads per-team limits into the server settings', () => {
    const path = file(
      'ok.yaml',
      'teams:\n  grocery: { rpm: 1200, concurrency: 16 }\n  pharmacy:\n    rpm: 0\n',
    );
    const config = serverConfigFromEnv({ PIXEL_TEAM_LIMITS_FILE: path, PIXEL_TEAM_RPM: '100' });
    expect(config.limits).toMatchObject({
      teamRpm: 100,
      teams: { grocery: { rpm: 1200, concurrency: 16 }, pharmacy: { rpm: 0 } },
    });
    expect(serverConfigFromEnv({}).limits.teams).toBeUndefined();
  });

  it('names the entry at fault', () => {
    const cases: Array<[string, RegExp]> = [
      ['teams:\n  grocery: { rpm: -1 }\n', /teams\.grocery\.rpm/],
      ['teams:\n  grocery: { rpmm: 3 }\n', /teams\.grocery/],
      ['teams:\n  Bad Team: { rpm: 3 }\n', /teams\.Bad Team/],
      ['teams: [1, 2]\n', /teams/],
      ['a: &x [1]\nb: *x\n', /YAML|top level|a/],
      ['teams: {\n', /not valid YAML/],
    ];
    for (const [text, message] of cases) {
      const error = refusal(() => loadTeamLimitsFile(file('bad.yaml', text)));
      expect(error.field).toBe('PIXEL_TEAM_LIMITS_FILE');
      expect(error.message).toMatch(message);
    }
    expect(refusal(() => loadTeamLimitsFile(join(dir, 'missing.yaml'))).message).toMatch(
      /cannot be read \(ENOENT\)/,
    );
  });
});
