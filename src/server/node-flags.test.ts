import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SERVER_NODE_FLAGS } from './node-flags.ts';

describe('SERVER_NODE_FLAGS', () => {
  it('are the flags `npm start` gives node, so the server runs as the bench measures it', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      scripts: Record<string, string>;
    };
    const start = pkg.scripts.start!.split(/\s+/);
    expect(start[0]).toBe('node');
    // The flags go to node itself (before the script), not to Pixel's CLI.
    const script = start.findIndex((word) => word.endsWith('.ts'));
    expect(start.slice(1, script)).toEqual([...SERVER_NODE_FLAGS]);
  });

  it('are the flags bin/pixel.mjs gives `pixel serve`', () => {
    const bin = readFileSync(new URL('../../bin/pixel.mjs', import.meta.url), 'utf8');
    const declared = /const SERVER_NODE_FLAGS = \[([^\]]*)\]/.exec(bin)?.[1] ?? '';
    expect([...declared.matchAll(/'([^']*)'/g)].map((m) => m[1])).toEqual([...SERVER_NODE_FLAGS]);
  });

  it('are flags this node accepts', () => {
    // node refuses an unknown flag with "bad option" and exit code 9.
    const run = spawnSync(process.execPath, [...SERVER_NODE_FLAGS, '-e', '0'], { encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(spawnSync(process.execPath, ['--no-such-flag-at-all', '-e', '0']).status).not.toBe(0);
  });
});
