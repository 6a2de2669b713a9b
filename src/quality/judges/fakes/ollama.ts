import { listen, readRequest, record, sendJson } from '../../../providers/testing/fake-http.ts';
import type { RecordedRequest } from '../../../providers/testing/types.ts';
import { answerText, defaultBrain, type FakeJudgeServer } from './brain.ts';

export interface FakeOllamaJudge extends FakeJudgeServer {
  /** Models "pulled" on this server; others answer 404 like Ollama does. */
  models: Set<string>;
}

/** Ollama /api/chat (stream false): message, done, done_reason, eval counts; plain `{error}` bodies. */
export async function startFakeOllamaJudge(): Promise<FakeOllamaJudge> {
  const requests: RecordedRequest[] = [];
  const state: FakeOllamaJudge = {
    url: '',
    baseURL: '',
    requests,
    behaviour: 'answer',
    brain: defaultBrain(),
    models: new Set(['llava', 'qwen2.5vl']),
    close: async () => {},
  };
  const server = await listen((req, res) => {
    void (async () => {
      const request = await readRequest(req);
      record(requests, request);
      if (typeof state.behaviour === 'object')
        return sendJson(res, state.behaviour.status, { error: 'server busy, please try again' });
      if (request.method !== 'POST' || request.url.pathname !== '/api/chat')
        return sendJson(res, 404, { error: '404 page not found' });
      const body = request.body as any;
      const model = String(body?.model ?? '');
      if (!state.models.has(model))
        return sendJson(res, 404, { error: `model "${model}" not found, try pulling it first` });
      const images = (body.messages ?? []).flatMap((m: any) => (Array.isArray(m.images) ? m.images : []));
      // Ollama has no refusal field: a declining model just writes prose.
      const { text } =
        state.behaviour === 'refuse'
          ? { text: "I'm sorry, but I can't help with evaluating this image." }
          : answerText(body, state.brain, state.behaviour, images);
      sendJson(res, 200, {
        model,
        created_at: '2026-12-02T06:00:00.000000Z',
        message: { role: 'assistant', content: text },
        done: true,
        done_reason: 'stop',
        total_duration: 812_000_000,
        load_duration: 2_000_000,
        prompt_eval_count: 700,
        prompt_eval_duration: 500_000_000,
        eval_count: 60,
        eval_duration: 300_000_000,
      });
    })();
  });
  state.url = server.url;
  state.baseURL = `${server.url}/api`;
  state.close = server.close;
  return state;
}
