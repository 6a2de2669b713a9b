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
    const declared = /const SERVER_NODE_FLAGS = (\[[^\]]*\])/.exec(bin)?.[1];
    expect(JSON.parse(String(declared).replaceAll("'", '"'))).toEqual([...SERVER_NODE_FLAGS]);
  });

  it('are flags this node accepts', () => {
    for (const flag of SERVER_NODE_FLAGS) {
      expect(process.allowedNodeEnvironmentFlags.has(flag.split('=')[0]!)).toBe(true);
    }
  });
});
