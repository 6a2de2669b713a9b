import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { checkProfile } from './checks.ts';
import { APPS_DIR, loadApplicationFiles } from './load.ts';
import { copyOfShippedApps } from './testing.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('loadApplicationFiles', () => {
  it('loads the five shipped applications without a problem', () => {
    const { apps, errors } = loadApplicationFiles(APPS_DIR);
    expect(errors.map((e) => e.message)).toEqual([]);
    expect(apps.map((a) => a.profile.name)).toEqual([
      'butcher-cuts',
      'lifestyle-carousel',
      'packaged-goods',
      'prepared-foods',
      'produce',
    ]);
    for (const { profile } of apps) {
      expect(checkProfile(profile)).toEqual([]);
      expect(Object.keys(profile.variants)).toContain('tags');
      expect(profile.variants.tags!.families).toEqual(expect.arrayContaining(['sdxl', 'sd15']));
      expect(profile.rubric.some((q) => q.critical)).toBe(true);
      expect(profile.outputs.some((o) => o.format === 'webp' && (o.width === 256 || o.height === 256))).toBe(
        true,
      );
      expect(profile.fewShots.length).toBeGreaterThanOrEqual(2);
      expect(profile.quality).toBeDefined();
      expect(profile.candidates).toContain('pixel/sketch');
    }
  });

  it('a broken YAML file gives an error with the file and line, and the others still load', () => {
    const dir = copyOfShippedApps();
    dirs.push(dir);
    const file = join(dir, 'produce.yaml');
    const lines = readFileSync(file, 'utf8').split('\n');
    const at = lines.findIndex((l) => l.startsWith('negativePrompt:'));
    lines[at] = 'title: Produce again'; // a duplicate key: invalid YAML, reported on this line
    writeFileSync(file, lines.join('\n'));
    const { apps, errors } = loadApplicationFiles(dir);
    expect(apps.map((a) => a.profile.name)).toEqual([
      'butcher-cuts',
      'lifestyle-carousel',
      'packaged-goods',
      'prepared-foods',
    ]);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.message).toMatch(new RegExp(`produce\\.yaml:${at + 1}(:\\d+)?: invalid YAML`));
  });

  it('a schema error points at the line of the bad field', () => {
    const dir = copyOfShippedApps(['butcher-cuts']);
    dirs.push(dir);
    const file = join(dir, 'butcher-cuts.yaml');
    const text = readFileSync(file, 'utf8').replace('  threshold: 0.85', '  threshold: 1.7');
    writeFileSync(file, text);
    const line = text.split('\n').findIndex((l) => l.includes('threshold: 1.7')) + 1;
    const { errors } = loadApplicationFiles(dir);
    expect(errors[0]!.message).toContain(`butcher-cuts.yaml:${line}: quality.threshold`);
    expect(errors[0]!.field).toBe('quality.threshold');
  });

  it('refuses a name that does not match the file, and undeclared template variables', () => {
    const dir = copyOfShippedApps(['produce', 'butcher-cuts']);
    dirs.push(dir);
    writeFileSync(
      join(dir, 'produce.yaml'),
      readFileSync(join(dir, 'produce.yaml'), 'utf8').replace('name: produce', 'name: fruit'),
    );
    const butcher = join(dir, 'butcher-cuts.yaml');
    writeFileSync(
      butcher,
      readFileSync(butcher, 'utf8').replace(
        'Is the whole of the meat visible',
        'Is the whole {{cutt}} visible',
      ),
    );
    const { apps, errors } = loadApplicationFiles(dir);
    expect(apps).toEqual([]);
    const messages = errors.map((e) => e.message).join('\n');
    expect(messages).toContain('name "fruit" must match the file name "produce"');
    expect(messages).toMatch(
      /butcher-cuts\.yaml:\d+: rubric\.\d+\.question: uses \{\{cutt\}\}, which is not declared/,
    );
  });
});
