import { listen, readRequest, record, sendJson } from '../../../providers/testing/fake-http.ts';
import type { RecordedRequest } from '../../../providers/testing/types.ts';
import { answerText, defaultBrain, type FakeJudgeServer } from './brain.ts';

export const FAKE_GOOGLE_KEY = 'AIzaFakeJudgeKey000000000000000000001';

function imagesOf(body: any): string[] {
  const out: string[] = [];
  for (const c of body?.contents ?? [])
    for (const p of c.parts ?? []) if (p.inlineData?.data) out.push(String(p.inlineData.data));
  return out;
}

const gErr = (code: number, status: string, message: string) => ({ error: { code, message, status } });

/** Gemini API models/{model}:generateContent: candidates, finishReason (SAFETY when blocked), usageMetadata. */
export async function startFakeGeminiJudge(): Promise<FakeJudgeServer> {
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
      if (request.headers['x-goog-api-key'] !== FAKE_GOOGLE_KEY)
        return sendJson(
          res,
          400,
          gErr(400, 'INVALID_ARGUMENT', 'API key not valid. Please pass a valid API key.'),
        );
      if (typeof state.behaviour === 'object') {
        const s = state.behaviour.status;
        return sendJson(
          res,
          s,
          s === 429
            ? gErr(429, 'RESOURCE_EXHAUSTED', 'Resource has been exhausted (e.g. check quota).')
            : gErr(s, 'INTERNAL', 'An internal error has occurred.'),
        );
      }
      const match = /^\/v1beta\/models\/([^/:]+):generateContent$/.exec(request.url.pathname);
      if (request.method !== 'POST' || !match)
        return sendJson(res, 404, gErr(404, 'NOT_FOUND', 'Requested entity was not found.'));
      const body = request.body as any;
      if (!Array.isArray(body?.contents) || body.contents.length === 0)
        return sendJson(
          res,
          400,
          gErr(400, 'INVALID_ARGUMENT', '* GenerateContentRequest.contents: contents is not specified'),
        );
      const usageMetadata = { promptTokenCount: 1290, candidatesTokenCount: 70, totalTokenCount: 1360 };
      if (state.behaviour === 'refuse')
        return sendJson(res, 200, {
          candidates: [
            {
              finishReason: 'SAFETY',
              index: 0,
              safetyRatings: [
                { category: 'HARM_CATEGORY_DANGEROUS_CONTENT', probability: 'HIGH', blocked: true },
              ],
            },
          ],
          usageMetadata,
          modelVersion: match[1],
        });
      const { text } = answerText(body, state.brain, state.behaviour, imagesOf(body));
      sendJson(res, 200, {
        candidates: [{ content: { role: 'model', parts: [{ text }] }, finishReason: 'STOP', index: 0 }],
        usageMetadata,
        modelVersion: match[1],
        responseId: 'fake-gemini-0001',
      });
    })();
  });
  state.url = server.url;
  state.baseURL = `${server.url}/v1beta`;
  state.close = server.close;
  return state;
}
