// Child entry: the fake OpenAI provider in its own process (see fake-openai.ts).
import { serveChild } from './child.ts';
import { startFakeOpenAI } from './fake-openai.ts';

await serveChild(async () => {
  const fake = await startFakeOpenAI();
  return { info: { baseUrl: fake.baseUrl, pngBytes: fake.pngBytes }, close: fake.close };
});
