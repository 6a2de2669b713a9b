import { execFileSync } from 'node:child_process';
import { startOpenAIFake } from '/work/main/src/providers/openai/fake.ts';

const fake = await startOpenAIFake();
for (const key of [fake.apiKey, 'sk-wrong-key-12345678']) {
  try {
    const out = execFileSync('./node_modules/.bin/node', ['scripts/smoke-providers.ts'], {
      env: { PATH: process.env.PATH, OPENAI_API_KEY: key, OPENAI_BASE_URL: fake.url },
      encoding: 'utf8',
    });
    console.log(
      out
        .split('\n')
        .filter((l) => l.includes('openai'))
        .join('\n'),
      '\nexit 0',
    );
  } catch (e) {
    const err = e as { stdout: string; status: number };
    console.log(
      err.stdout
        .split('\n')
        .filter((l) => /openai|failed/.test(l))
        .join('\n'),
      '\nexit',
      err.status,
    );
  }
}
await fake.close();
