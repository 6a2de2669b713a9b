// Native fetch + `ws` adapter: no AI SDK provider package speaks the ComfyUI server API.
import { randomUUID } from 'node:crypto';
import { invalidArgument, PixelError } from '../../protocol/errors.ts';
import {
  cancelled,
  checkImage,
  classifyHttpFailure,
  malformed,
  networkFailure,
  readJson,
  sleep,
} from '../common/http.ts';
import type { ProviderAdapter, ProviderCall, ProviderImage, ProviderResult } from '../types.ts';
import { executionFailure, ProgressSocket } from './progress.ts';
import {
  type Graph,
  GraphSchema,
  type HistoryEntry,
  HistoryEntrySchema,
  type OutputImage,
  PromptErrorSchema,
  PromptResponseSchema,
  QueueSchema,
} from './wire.ts';

export interface ComfyUIAdapterConfig {
  baseURL: string;
  /** Bearer token for servers behind an authenticating proxy (ComfyUI itself has no auth). */
  apiKey?: string;
  fetch?: typeof fetch;
  /** `websocket` (default) follows `/ws` and falls back to polling if it cannot connect; `poll` only polls. */
  progress?: 'websocket' | 'poll';
  /** History poll interval when polling (default 1000 ms). */
  pollIntervalMs?: number;
  /** Upper bound on one prompt's run (default 30 min); past it the prompt is cancelled. */
  maxWaitMs?: number;
}

const PROVIDER = 'comfyui';

export function createComfyUIAdapter(config: ComfyUIAdapterConfig): ProviderAdapter {
  const baseURL = config.baseURL.replace(/\/+$/, '');
  const doFetch = config.fetch ?? fetch;
  const pollMs = Math.max(1, config.pollIntervalMs ?? 1000);
  const maxWaitMs = config.maxWaitMs ?? 30 * 60_000;
  const auth: Record<string, string> = config.apiKey ? { authorization: `Bearer ${config.apiKey}` } : {};

  async function request(path: string, init: RequestInit, signal?: AbortSignal): Promise<Response> {
    let response: Response;
    try {
      response = await doFetch(`${baseURL}${path}`, {
        ...init,
        headers: { ...auth, ...init.headers },
        signal,
      });
    } catch (error) {
      throw networkFailure(PROVIDER, error, signal);
    }
    if (!response.ok) throw await httpFailure(response);
    return response;
  }

  const postJson = (path: string, body: unknown, signal?: AbortSignal) =>
    request(
      path,
      { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } },
      signal,
    );

  async function submit(graph: Graph, clientId: string, signal?: AbortSignal) {
    const response = await postJson('/prompt', { prompt: graph, client_id: clientId }, signal);
    const parsed = PromptResponseSchema.safeParse(await readJson(PROVIDER, response));
    if (!parsed.success) throw malformed(PROVIDER, 'answered POST /prompt without a prompt_id');
    return parsed.data;
  }

  async function history(promptId: string, signal?: AbortSignal): Promise<HistoryEntry | undefined> {
    const response = await request(`/history/${encodeURIComponent(promptId)}`, { method: 'GET' }, signal);
    const json = await readJson(PROVIDER, response);
    if (typeof json !== 'object' || json === null)
      throw malformed(PROVIDER, 'answered history with a non-object');
    const entry = (json as Record<string, unknown>)[promptId];
    if (entry === undefined) return undefined;
    const parsed = HistoryEntrySchema.safeParse(entry);
    if (!parsed.success) throw malformed(PROVIDER, 'history entry has no outputs');
    return parsed.data;
  }

  /** Pending prompts are deleted from the queue; the running one is interrupted (by id, never another's). */
  async function cancel(promptId: string): Promise<void> {
    const signal = AbortSignal.timeout(5_000);
    let running = true;
    let pending = true;
    try {
      const queue = QueueSchema.parse(await (await request('/queue', { method: 'GET' }, signal)).json());
      running = queue.queue_running.some((item) => item[1] === promptId);
      pending = queue.queue_pending.some((item) => item[1] === promptId);
    } catch {
      // queue unreadable: try both
    }
    const calls: Promise<unknown>[] = [];
    if (pending) calls.push(postJson('/queue', { delete: [promptId] }, signal));
    if (running) calls.push(postJson('/interrupt', { prompt_id: promptId }, signal));
    await Promise.allSettled(calls);
  }

  async function waitForEntry(promptId: string, socket: ProgressSocket | undefined, call: ProviderCall) {
    const started = Date.now();
    // Bounded by maxWaitMs; every round waits at least pollMs or for a websocket event.
    while (Date.now() - started < maxWaitMs) {
      if (socket?.alive && !socket.isFinished(promptId)) {
        // The socket says when it is done; the long timeout is a history check in case an event was missed.
        await socket.waitForEvent(Math.max(pollMs * 10, 1_000), call.signal);
      } else {
        // Polling, or finished but history not written yet (`execution_success` precedes it).
        await sleep(socket?.isFinished(promptId) ? Math.min(pollMs, 50) : pollMs, call.signal);
      }
      if (call.signal?.aborted) throw cancelled(call.signal);
      const failure = socket?.failureOf(promptId);
      if (failure) throw failure;
      const entry = await history(promptId, call.signal);
      if (entry) return entry;
    }
    throw new PixelError({
      code: 'deadline_exceeded',
      reason: 'timeout',
      provider: PROVIDER,
      providerRequestId: promptId,
      message: `comfyui prompt ${promptId} did not finish within ${maxWaitMs} ms`,
    });
  }

  async function download(image: OutputImage, signal?: AbortSignal): Promise<ProviderImage> {
    const query = new URLSearchParams({
      filename: image.filename,
      subfolder: image.subfolder,
      type: image.type,
    });
    const response = await request(`/view?${query}`, { method: 'GET' }, signal);
    const type = response.headers.get('content-type') ?? '';
    if (!type.startsWith('image/'))
      throw malformed(PROVIDER, `served ${image.filename} as ${type || 'no type'}`);
    return checkImage(PROVIDER, new Uint8Array(await response.arrayBuffer()), type);
  }

  return {
    name: PROVIDER,
    async generate(call: ProviderCall): Promise<ProviderResult> {
      const graph = GraphSchema.safeParse(call.body.prompt);
      if (!graph.success)
        throw invalidArgument('prompt', 'the ComfyUI body must be { prompt: <API-format workflow graph> }');
      const clientId = randomUUID();
      const socket =
        config.progress === 'poll'
          ? undefined
          : await ProgressSocket.open(socketURL(baseURL, clientId), auth, Math.max(pollMs * 10, 2_000));
      let promptId: string | undefined;
      try {
        if (socket) socket.onProgress = call.onProgress;
        const submitted = await submit(graph.data, clientId, call.signal);
        promptId = submitted.prompt_id;
        call.onProgress?.({ status: 'queued' });
        const entry = await waitForEntry(promptId, socket, call);
        const failure = historyFailure(entry);
        if (failure) throw failure;
        const outputs = outputImages(entry);
        if (outputs.length < call.count)
          throw malformed(PROVIDER, `produced ${outputs.length} image(s) where ${call.count} were asked for`);
        const seed = samplerSeed(graph.data);
        const images = await Promise.all(outputs.map((image) => download(image, call.signal)));
        return { images: images.map((image) => ({ ...image, seed })), requestId: promptId };
      } catch (error) {
        const stopped =
          call.signal?.aborted || (PixelError.isInstance(error) && error.code === 'deadline_exceeded');
        if (promptId && stopped) await cancel(promptId);
        if (call.signal?.aborted) throw cancelled(call.signal);
        throw error;
      } finally {
        socket?.close();
      }
    },
  };
}

function socketURL(baseURL: string, clientId: string): string {
  const url = new URL(`${baseURL}/ws`);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  url.searchParams.set('clientId', clientId);
  return url.toString();
}

function historyFailure(entry: HistoryEntry): PixelError | undefined {
  if (entry.status?.status_str !== 'error') return undefined;
  for (const [type, data] of entry.status.messages) {
    if (type === 'execution_error' || type === 'execution_interrupted') return executionFailure(type, data);
  }
  return executionFailure('execution_error', { exception_message: 'the prompt ended in error' });
}

/** Saved images (`type: output`); previews (`temp`) only when nothing was saved. */
function outputImages(entry: HistoryEntry): OutputImage[] {
  const all = Object.values(entry.outputs).flatMap((output) => output.images ?? []);
  const saved = all.filter((image) => image.type === 'output');
  const images = saved.length > 0 ? saved : all;
  if (images.length === 0) throw malformed(PROVIDER, 'finished without any output image');
  return images;
}

/** The seed the workflow sampled with: the (first) KSampler's, when it is a literal. */
function samplerSeed(graph: Graph): number | undefined {
  for (const node of Object.values(graph)) {
    const seed =
      node.class_type === 'KSampler'
        ? node.inputs.seed
        : node.class_type === 'KSamplerAdvanced'
          ? node.inputs.noise_seed
          : undefined;
    if (typeof seed === 'number') return seed;
  }
  return undefined;
}

async function httpFailure(response: Response): Promise<PixelError> {
  const text = await response.text();
  let message = text.slice(0, 300);
  try {
    const parsed = PromptErrorSchema.safeParse(JSON.parse(text));
    if (parsed.success) message = describePromptError(parsed.data);
    else {
      const simple = JSON.parse(text) as { error?: unknown; message?: unknown };
      if (typeof simple.error === 'string') message = simple.error;
      else if (typeof simple.message === 'string') message = simple.message;
    }
  } catch {
    // plain text (aiohttp's "500 Internal Server Error") or a proxy page
  }
  return classifyHttpFailure({
    provider: PROVIDER,
    status: response.status,
    headers: response.headers,
    message,
  });
}

/** "Prompt outputs failed validation: KSampler #3 steps: Value 20000 bigger than max of 10000". */
function describePromptError(error: ReturnType<typeof PromptErrorSchema.parse>): string {
  const head =
    typeof error.error === 'string'
      ? error.error
      : [error.error.message, error.error.details].filter(Boolean).join(': ');
  const nodes = Object.entries(error.node_errors).flatMap(([id, node]) =>
    node.errors.map(
      (item) => `${node.class_type} #${id} ${[item.message, item.details].filter(Boolean).join(': ')}`,
    ),
  );
  return nodes.length > 0 ? `${head}: ${nodes.join('; ')}` : head;
}
