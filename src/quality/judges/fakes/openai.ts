import {
  listen,
  type ParsedRequest,
  readRequest,
  record,
  sendJson,
} from '../../../providers/testing/fake-http.ts';
import type { RecordedRequest } from '../../../providers/testing/types.ts';
import { answerText, defaultBrain, type FakeJudgeServer } from './brain.ts';

export const FAKE_OPENAI_KEY = 'sk-fake-judge-key-0001';

interface Token {
  token: string;
  logprob: number;
  bytes: number[];
  top_logprobs: Array<{ token: string; logprob: number; bytes: number[] }>;
}

const bytes = (s: string) => [...Buffer.from(s, 'utf8')];

/**
 * Tokenises the content roughly as a BPE would (words, spaces, punctuation runs) and gives each
 * answer value token its yes/no alternatives from the brain (or the per-question logprobs set).
 */
function logprobsFor(
  text: string,
  answers: Array<{ id: string; p: number }>,
  top: number,
  override?: (id: string) => { yes: number; no: number } | undefined,
): Token[] {
  const pieces = text.match(/[A-Za-z]+|\s+|[^A-Za-z\s]+/g) ?? [];
  const out: Token[] = [];
  let acc = '';
  let n = 0;
  for (const piece of pieces) {
    if (/"answer"\s*:\s*"$/.test(acc) && (piece === 'yes' || piece === 'no')) {
      const a = answers[n++]!;
      const lp = override?.(a.id) ?? { yes: Math.log(a.p), no: Math.log(1 - a.p) };
      const alts = [
        { token: 'yes', logprob: lp.yes, bytes: bytes('yes') },
        { token: 'no', logprob: lp.no, bytes: bytes('no') },
        { token: 'Yes', logprob: -12, bytes: bytes('Yes') },
        { token: 'maybe', logprob: -14, bytes: bytes('maybe') },
        { token: 'unsure', logprob: -15, bytes: bytes('unsure') },
      ]
        .sort((x, y) => y.logprob - x.logprob)
        .slice(0, top);
      out.push({
        token: piece,
        logprob: piece === 'yes' ? lp.yes : lp.no,
        bytes: bytes(piece),
        top_logprobs: alts,
      });
    } else {
      out.push({
        token: piece,
        logprob: 0,
        bytes: bytes(piece),
        top_logprobs: top > 0 ? [{ token: piece, logprob: 0, bytes: bytes(piece) }] : [],
      });
    }
    acc += piece;
  }
  return out;
}

function imagesOf(body: any): string[] {
  const out: string[] = [];
  for (const m of body?.messages ?? [])
    for (const part of Array.isArray(m.content) ? m.content : [])
      if (part?.type === 'image_url') out.push(String(part.image_url?.url ?? '').replace(/^data:[^,]*,/, ''));
  return out;
}

function error(
  res: import('node:http').ServerResponse,
  status: number,
  message: string,
  type: string,
  code: string | null,
) {
  sendJson(res, status, { error: { message, type, param: null, code } });
}

export interface FakeOpenAiJudge extends FakeJudgeServer {
  /** Exact first-token logprobs for some questions (for hand-computed P(yes) checks). */
  logprobs?: (id: string) => { yes: number; no: number } | undefined;
}

/** OpenAI chat completions (with logprobs) and the Decisions endpoint, as the real API answers them. */
export async function startFakeOpenAiJudge(): Promise<FakeOpenAiJudge> {
  const requests: RecordedRequest[] = [];
  const state: FakeOpenAiJudge = {
    url: '',
    baseURL: '',
    requests,
    behaviour: 'answer',
    brain: defaultBrain(),
    close: async () => {},
  };
  const server = await listen((req, res) => {
    void (async () => {
      const request: ParsedRequest = await readRequest(req);
      record(requests, request);
      if (request.headers.authorization !== `Bearer ${FAKE_OPENAI_KEY}`)
        return error(res, 401, 'Incorrect API key provided.', 'invalid_request_error', 'invalid_api_key');
      if (typeof state.behaviour === 'object')
        return error(
          res,
          state.behaviour.status,
          state.behaviour.status === 429
            ? 'Rate limit reached for requests'
            : 'The server had an error processing your request.',
          state.behaviour.status === 429 ? 'requests' : 'server_error',
          null,
        );
      const body = request.body as any;
      if (request.method === 'POST' && request.url.pathname === '/v1/chat/completions')
        return chat(body, res);
      if (request.method === 'POST' && request.url.pathname === '/v1/decisions') return decisions(body, res);
      error(
        res,
        404,
        `Invalid URL (${request.method} ${request.url.pathname})`,
        'invalid_request_error',
        null,
      );
    })();
  });

  function chat(body: any, res: import('node:http').ServerResponse) {
    if (!Array.isArray(body?.messages) || typeof body.model !== 'string')
      return error(
        res,
        400,
        "Missing required parameter: 'messages'.",
        'invalid_request_error',
        'missing_required_parameter',
      );
    const created = 1_764_000_000;
    const usage = { prompt_tokens: 1200, completion_tokens: 60, total_tokens: 1260 };
    if (state.behaviour === 'refuse') {
      return sendJson(res, 200, {
        id: 'chatcmpl-fake-refusal',
        object: 'chat.completion',
        created,
        model: body.model,
        choices: [
          {
            index: 0,
            message: {
              role: 'assistant',
              content: null,
              refusal: "I'm sorry, I can't assist with that request.",
            },
            logprobs: null,
            finish_reason: 'stop',
          },
        ],
        usage,
      });
    }
    const { text, answers } = answerText(body, state.brain, state.behaviour, imagesOf(body));
    const wantLogprobs = body.logprobs === true;
    sendJson(res, 200, {
      id: 'chatcmpl-fake-0001',
      object: 'chat.completion',
      created,
      model: body.model,
      system_fingerprint: 'fp_fake',
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: text, refusal: null, annotations: [] },
          logprobs: wantLogprobs
            ? {
                content: logprobsFor(text, answers, Number(body.top_logprobs ?? 0), state.logprobs),
                refusal: null,
              }
            : null,
          finish_reason: 'stop',
        },
      ],
      usage,
    });
  }

  function decisions(body: any, res: import('node:http').ServerResponse) {
    const questions: Array<{ type: string; name: string; instructions: string }> = body?.questions ?? [];
    const usage = { input_tokens: 1100, output_tokens: 20, total_tokens: 1120 };
    let answers = questions.map((q) =>
      state.behaviour === 'refuse'
        ? { type: 'refusal', name: q.name }
        : {
            type: 'predicate',
            name: q.name,
            probability: Math.round(state.brain.pYes(q.name, q.instructions) * 100) / 100,
          },
    );
    if (state.behaviour === 'partial') answers = answers.slice(0, -1);
    if (state.behaviour === 'malformed')
      return sendJson(res, 200, {
        model: body.model,
        usage,
        answers: [{ type: 'predicate', name: questions[0]?.name }],
      });
    sendJson(res, 200, { model: body.model, usage, answers });
  }

  state.url = server.url;
  state.baseURL = `${server.url}/v1`;
  state.close = server.close;
  return state;
}
