import { listen, readRequest, record, sendJson } from '../../../providers/testing/fake-http.ts';
import type { RecordedRequest } from '../../../providers/testing/types.ts';
import { answerText, defaultBrain, type FakeJudgeServer } from './brain.ts';

export const FAKE_ANTHROPIC_KEY = 'sk-ant-fake-judge-0001';

function imagesOf(body: any): string[] {
  const out: string[] = [];
  for (const m of body?.messages ?? [])
    for (const part of Array.isArray(m.content) ? m.content : [])
      if (part?.type === 'image' && part.source?.type === 'base64') out.push(String(part.source.data));
  return out;
}

const err = (type: string, message: string) => ({ type: 'error', error: { type, message } });

/** Anthropic Messages API: text (or tool_use) content blocks, stop_reason, typed error bodies. */
export async function startFakeAnthropicJudge(): Promise<FakeJudgeServer> {
  const requests: RecordedRequest[] = [];
  const state: FakeJudgeServer = {
    url: '',
    baseURL: '',
    requests,
    behaviour: 'answer',
    brain: defaultBrain(),
    close: async () => {},
  };
  const server = await listen((req, res) => {
    void (async () => {
      const request = await readRequest(req);
      record(requests, request);
      if (request.headers['x-api-key'] !== FAKE_ANTHROPIC_KEY)
        return sendJson(res, 401, err('authentication_error', 'invalid x-api-key'));
      if (!request.headers['anthropic-version'])
        return sendJson(res, 400, err('invalid_request_error', 'anthropic-version: header is required'));
      if (typeof state.behaviour === 'object') {
        const s = state.behaviour.status;
        return sendJson(
          res,
          s,
          s === 429
            ? err('rate_limit_error', 'Number of requests has exceeded your rate limit')
            : s === 529
              ? err('overloaded_error', 'Overloaded')
              : err('api_error', 'Internal server error'),
        );
      }
      if (request.method !== 'POST' || request.url.pathname !== '/v1/messages')
        return sendJson(res, 404, err('not_found_error', `Not found: ${request.url.pathname}`));
      const body = request.body as any;
      if (typeof body?.max_tokens !== 'number')
        return sendJson(res, 400, err('invalid_request_error', 'max_tokens: Field required'));
      const usage = { input_tokens: 1300, output_tokens: 80 };
      const base = {
        id: 'msg_fake_0001',
        type: 'message',
        role: 'assistant',
        model: body.model,
        stop_sequence: null,
        usage,
      };
      if (state.behaviour === 'refuse')
        return sendJson(res, 200, { ...base, content: [], stop_reason: 'refusal' });
      const { text } = answerText(body, state.brain, state.behaviour, imagesOf(body));
      // A request with a forced JSON tool gets a tool_use block; the structured-output format a text block.
      const tool = Array.isArray(body.tools) && body.tools.length === 1 ? body.tools[0] : undefined;
      if (tool && state.behaviour !== 'malformed') {
        return sendJson(res, 200, {
          ...base,
          content: [{ type: 'tool_use', id: 'toolu_fake_0001', name: tool.name, input: JSON.parse(text) }],
          stop_reason: 'tool_use',
        });
      }
      sendJson(res, 200, { ...base, content: [{ type: 'text', text }], stop_reason: 'end_turn' });
    })();
  });
  state.url = server.url;
  state.baseURL = `${server.url}/v1`;
  state.close = server.close;
  return state;
}
