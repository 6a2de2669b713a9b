import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { type WebSocket, WebSocketServer } from 'ws';
import { credentialsSeen, FakeState, type ParsedRequest, sendBytes, sendJson } from '../testing/fake-http.ts';
import { fakeImage } from '../testing/fake-image.ts';
import type { FakeServer, Fault } from '../testing/types.ts';
import { executionOrder, validateGraph } from './fake-graph.ts';
import type { Graph, HistoryEntry, OutputImage } from './wire.ts';

/**
 * A local ComfyUI server: `POST /prompt` with graph validation, a queue, a minimal executor that
 * walks the graph and renders `batch_size` images of EmptyLatentImage's size, `/history`, `/view`,
 * `/queue`, `/interrupt`, and the `/ws` event stream. ComfyUI has no auth of its own; `token`
 * emulates the authenticating reverse proxy deployments put in front of it.
 */

export interface ComfyUIFakeOptions {
  /** Bearer token required by the (emulated) proxy; none by default, as ComfyUI itself. */
  token?: string;
  /** When given, `ckpt_name` must be one of these (else any name is accepted). */
  checkpoints?: string[];
  loras?: string[];
  /** False emulates a proxy that does not pass websocket upgrades (clients must poll). */
  websocket?: boolean;
}

export interface ComfyUIFake extends FakeServer {
  /** `clientId` of every websocket connection attempt (kept apart from `requests`, which are HTTP calls). */
  readonly sockets: string[];
}

interface Job {
  id: string;
  number: number;
  clientId: string | undefined;
  graph: Graph;
  state: 'pending' | 'running' | 'done';
  fault: Fault | undefined;
  interrupted: boolean;
  wake: (() => void) | undefined;
}

interface StoredFile {
  bytes: Uint8Array;
  contentType: string;
}

const OOM = 'CUDA out of memory. Tried to allocate 2.00 GiB (GPU 0; 23.65 GiB total capacity)';

export async function startComfyUIFake(options: ComfyUIFakeOptions = {}): Promise<ComfyUIFake> {
  const state = new FakeState();
  const { cancelled, faults } = state;
  const jobs = new Map<string, Job>();
  const history = new Map<string, HistoryEntry>();
  const files = new Map<string, StoredFile>();
  const sockets = new Map<string, Set<WebSocket>>();
  const socketAttempts: string[] = [];
  let counter = 0;
  let fileCounter = 0;

  const send = (clientId: string | undefined, type: string, data: Record<string, unknown>) => {
    const text = JSON.stringify({ type, data });
    const targets =
      clientId === undefined
        ? [...sockets.values()].flatMap((set) => [...set])
        : [...(sockets.get(clientId) ?? [])];
    for (const socket of targets) if (socket.readyState === socket.OPEN) socket.send(text);
  };
  const queueRemaining = () => [...jobs.values()].filter((job) => job.state !== 'done').length;
  const broadcastStatus = () =>
    send(undefined, 'status', { status: { exec_info: { queue_remaining: queueRemaining() } } });

  const authorised = (headers: Record<string, string | string[] | undefined>) =>
    !options.token || headers.authorization === `Bearer ${options.token}`;

  /** Waits, waking early when the job is interrupted. */
  const pause = (job: Job, ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        job.wake = undefined;
        resolve();
      }
      job.wake = done;
      if (job.interrupted) done();
    });

  const finish = (job: Job, entry: Omit<HistoryEntry, 'prompt'>) => {
    history.set(job.id, {
      prompt: [job.number, job.id, job.graph, { client_id: job.clientId }, []],
      ...entry,
    });
    job.state = 'done';
  };

  async function run(job: Job): Promise<void> {
    job.state = 'running';
    broadcastStatus();
    const messages: Array<[string, Record<string, unknown>]> = [];
    const emit = (type: string, data: Record<string, unknown>) => {
      const payload = { ...data, prompt_id: job.id, timestamp: Date.now() };
      messages.push([type, payload]);
      send(job.clientId, type, payload);
    };
    emit('execution_start', {});
    emit('execution_cached', { nodes: [] });
    const outputs: HistoryEntry['outputs'] = {};
    const graph = job.graph;
    for (const id of executionOrder(graph) ?? []) {
      const node = graph[id]!;
      if (job.interrupted) {
        emit('execution_interrupted', { node_id: id, node_type: node.class_type, executed: [] });
        finish(job, { outputs, status: { status_str: 'error', completed: false, messages } });
        broadcastStatus();
        return;
      }
      send(job.clientId, 'executing', { node: id, display_node: id, prompt_id: job.id });
      if (node.class_type === 'KSampler') {
        const fault = job.fault;
        const latent = findNode(graph, 'EmptyLatentImage')?.inputs;
        const tooBig =
          Number(latent?.batch_size) > 64 || Number(latent?.width) > 4096 || Number(latent?.height) > 4096;
        if ((fault?.kind === 'server_error' && fault.status === 500) || tooBig) {
          emit('execution_error', {
            node_id: id,
            node_type: 'KSampler',
            executed: [],
            exception_message: OOM,
            exception_type: 'torch.OutOfMemoryError',
            traceback: [],
            current_inputs: {},
            current_outputs: {},
          });
          finish(job, { outputs, status: { status_str: 'error', completed: false, messages } });
          broadcastStatus();
          return;
        }
        const steps = Number(node.inputs.steps) || 1;
        const reports = Math.min(steps, 10);
        const stepDelay = fault?.kind === 'slow' ? fault.delayMs / reports : 0;
        for (let report = 1; report <= reports && !job.interrupted; report++) {
          await pause(job, stepDelay);
          const value = Math.round((report / reports) * steps);
          send(job.clientId, 'progress', { value, max: steps, prompt_id: job.id, node: id });
        }
        if (job.interrupted) continue; // reported at the top of the loop
      }
      if (node.class_type === 'SaveImage' || node.class_type === 'PreviewImage') {
        const images = await render(
          job,
          node.class_type === 'SaveImage' ? 'output' : 'temp',
          String(node.inputs.filename_prefix ?? 'ComfyUI'),
        );
        outputs[id] = { images };
        send(job.clientId, 'executed', { node: id, display_node: id, output: { images }, prompt_id: job.id });
      }
    }
    if (job.interrupted) {
      emit('execution_interrupted', { node_id: null, node_type: null, executed: [] });
      finish(job, { outputs, status: { status_str: 'error', completed: false, messages } });
      broadcastStatus();
      return;
    }
    emit('execution_success', {});
    const fault = job.fault?.kind === 'malformed' ? job.fault.variant : undefined;
    const entry: Omit<HistoryEntry, 'prompt'> = {
      outputs:
        fault === 'empty_list'
          ? Object.fromEntries(Object.keys(outputs).map((id) => [id, { images: [] }]))
          : outputs,
      status: { status_str: 'success', completed: true, messages },
      meta: {},
    };
    // "missing_fields": a history entry without its outputs.
    if (fault === 'missing_fields') delete (entry as Partial<HistoryEntry>).outputs;
    finish(job, entry);
    send(job.clientId, 'executing', { node: null, prompt_id: job.id });
    broadcastStatus();
  }

  async function render(job: Job, type: 'output' | 'temp', prefix: string): Promise<OutputImage[]> {
    const latent = findNode(job.graph, 'EmptyLatentImage')?.inputs ?? {};
    const sampler = findNode(job.graph, 'KSampler')?.inputs ?? {};
    const positive = Array.isArray(sampler.positive) ? job.graph[String(sampler.positive[0])] : undefined;
    const width = Number(latent.width) || 512;
    const height = Number(latent.height) || 512;
    const batch = Number(latent.batch_size) || 1;
    const seed = Number(sampler.seed) || 0;
    const slash = prefix.lastIndexOf('/');
    const subfolder = slash >= 0 ? prefix.slice(0, slash) : '';
    const stem = type === 'temp' ? `ComfyUI_temp_${job.id.slice(0, 5)}` : prefix.slice(slash + 1);
    const images: OutputImage[] = [];
    for (let index = 0; index < batch; index++) {
      const image = await fakeImage({
        prompt: String(positive?.inputs.text ?? ''),
        // ComfyUI rounds the latent down to a multiple of 8 pixels.
        width: Math.floor(width / 8) * 8,
        height: Math.floor(height / 8) * 8,
        seed: (seed + index) % 2 ** 32,
      });
      fileCounter += 1;
      const filename = `${stem}_${String(fileCounter).padStart(5, '0')}_.png`;
      const variant = job.fault?.kind === 'malformed' ? job.fault.variant : undefined;
      const stored: StoredFile =
        variant === 'not_image'
          ? { bytes: Buffer.from('not an image at all'), contentType: 'image/png' }
          : variant === 'wrong_content_type'
            ? { bytes: Buffer.from('<html><body>ComfyUI</body></html>'), contentType: 'text/html' }
            : { bytes: image.bytes, contentType: 'image/png' };
      files.set(`${type}/${subfolder}/${filename}`, stored);
      images.push({ filename, subfolder, type });
    }
    return images;
  }

  const interrupt = (job: Job) => {
    if (job.interrupted) return;
    job.interrupted = true;
    cancelled.push(job.id);
    job.wake?.();
  };

  const queueItem = (job: Job) => [job.number, job.id, job.graph, { client_id: job.clientId }, []];

  async function handle(request: ParsedRequest, res: ServerResponse): Promise<void> {
    if (!authorised(request.headers)) {
      sendJson(res, 401, { error: 'Unauthorized' }, { 'www-authenticate': 'Bearer' });
      return;
    }
    const path = request.url.pathname;
    if (request.method === 'POST' && path === '/prompt') return submit(request, res);
    if (request.method === 'GET' && path.startsWith('/history')) {
      const id = decodeURIComponent(path.slice('/history/'.length));
      if (path === '/history' || path === '/history/') sendJson(res, 200, Object.fromEntries(history));
      else sendJson(res, 200, history.has(id) ? { [id]: history.get(id) } : {});
      return;
    }
    if (request.method === 'GET' && path === '/view') return view(request, res);
    if (request.method === 'GET' && path === '/queue') {
      const all = [...jobs.values()];
      sendJson(res, 200, {
        queue_running: all.filter((job) => job.state === 'running').map(queueItem),
        queue_pending: all.filter((job) => job.state === 'pending').map(queueItem),
      });
      return;
    }
    if (request.method === 'POST' && path === '/queue') {
      const body = (request.body ?? {}) as { delete?: unknown; clear?: unknown };
      const doomed = [...jobs.values()].filter(
        (job) =>
          job.state === 'pending' &&
          (body.clear === true || (Array.isArray(body.delete) && body.delete.includes(job.id))),
      );
      for (const job of doomed) {
        jobs.delete(job.id);
        cancelled.push(job.id);
      }
      broadcastStatus();
      res.writeHead(200).end();
      return;
    }
    if (request.method === 'POST' && path === '/interrupt') {
      // Newer servers take `{ prompt_id }` and interrupt only that prompt if it is the running one.
      const wanted = (request.body as { prompt_id?: unknown } | undefined)?.prompt_id;
      for (const job of jobs.values()) {
        if (job.state === 'running' && (wanted === undefined || wanted === job.id)) interrupt(job);
      }
      res.writeHead(200).end();
      return;
    }
    if (request.method === 'GET' && path === '/system_stats') {
      sendJson(res, 200, { system: { os: 'posix', comfyui_version: '0.3.60-fake' }, devices: [] });
      return;
    }
    sendBytes(res, 404, Buffer.from('404: Not Found'), 'text/plain');
  }

  async function submit(request: ParsedRequest, res: ServerResponse): Promise<void> {
    const body = (typeof request.body === 'object' && request.body !== null ? request.body : {}) as Record<
      string,
      unknown
    >;
    const fault = faults.take();
    if (fault?.kind === 'echo_credential') {
      const seen = credentialsSeen(request.headers);
      sendJson(res, fault.status, {
        error: fault.status === 401 ? `Unauthorized: ${seen}` : `Internal Server Error handling ${seen}`,
      });
      return;
    }
    if (fault?.kind === 'rate_limit') {
      // ComfyUI has no limiter; the proxy in front answers 429 with Retry-After.
      sendJson(
        res,
        429,
        { error: 'Too Many Requests' },
        { 'retry-after': String(fault.retryAfterMs / 1000) },
      );
      return;
    }
    if (fault?.kind === 'server_error' && fault.status !== 500) {
      sendBytes(res, fault.status, Buffer.from(`${fault.status} Service Unavailable`), 'text/plain');
      return;
    }
    const invalid =
      fault?.kind === 'invalid'
        ? {
            error: {
              type: 'prompt_outputs_failed_validation',
              message: 'Prompt outputs failed validation',
              details: '',
              extra_info: {},
            },
            node_errors: {
              '3': {
                errors: [
                  {
                    type: 'value_bigger_than_max',
                    message: 'Value 20000 bigger than max of 10000',
                    details: 'steps',
                    extra_info: { input_name: 'steps' },
                  },
                ],
                dependent_outputs: ['9'],
                class_type: 'KSampler',
              },
            },
          }
        : validateGraph(body.prompt, options);
    if (invalid) {
      sendJson(res, 400, invalid);
      return;
    }
    counter += 1;
    const id = typeof body.prompt_id === 'string' && body.prompt_id ? body.prompt_id : randomUUID();
    const job: Job = {
      id,
      number: counter,
      clientId: typeof body.client_id === 'string' ? body.client_id : undefined,
      graph: body.prompt as Graph,
      state: 'pending',
      fault,
      interrupted: false,
      wake: undefined,
    };
    jobs.set(id, job);
    sendJson(res, 200, { prompt_id: id, number: counter, node_errors: {} });
    broadcastStatus();
    // A stuck prompt stays pending until deleted from the queue.
    if (fault?.kind !== 'stuck') setImmediate(() => void run(job).catch(() => finish(job, { outputs: {} })));
  }

  function view(request: ParsedRequest, res: ServerResponse): void {
    const filename = request.url.searchParams.get('filename') ?? '';
    const subfolder = request.url.searchParams.get('subfolder') ?? '';
    const type = request.url.searchParams.get('type') ?? 'output';
    if (!filename || filename.includes('..') || filename.startsWith('/')) {
      res.writeHead(400).end();
      return;
    }
    if (subfolder.split('/').includes('..')) {
      res.writeHead(403).end();
      return;
    }
    const file = files.get(`${type}/${subfolder}/${filename}`);
    if (!file) {
      res.writeHead(404).end();
      return;
    }
    sendBytes(res, 200, file.bytes, file.contentType, { 'content-disposition': `filename="${filename}"` });
  }

  const server = await state.serve(handle, (res, error) =>
    sendBytes(res, 500, Buffer.from(`500 Internal Server Error\n\n${String(error)}`), 'text/plain'),
  );

  const wss = new WebSocketServer({ noServer: true });
  server.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    socketAttempts.push(url.searchParams.get('clientId') ?? '');
    if (url.pathname !== '/ws' || !authorised(req.headers) || options.websocket === false) {
      socket.end('HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      return;
    }
    const clientId = url.searchParams.get('clientId') || randomUUID().replace(/-/g, '');
    wss.handleUpgrade(req, socket, head, (ws) => {
      const set = sockets.get(clientId) ?? new Set<WebSocket>();
      set.add(ws);
      sockets.set(clientId, set);
      ws.on('close', () => set.delete(ws));
      ws.send(
        JSON.stringify({
          type: 'status',
          data: { status: { exec_info: { queue_remaining: queueRemaining() } }, sid: clientId },
        }),
      );
    });
  });

  return {
    ...state.fake(server, options.token ?? '', () => {
      socketAttempts.length = 0;
      for (const job of jobs.values()) {
        job.interrupted = true;
        job.wake?.();
      }
      jobs.clear();
    }),
    sockets: socketAttempts,
    close: async () => {
      for (const job of jobs.values()) {
        job.interrupted = true;
        job.wake?.();
      }
      for (const client of wss.clients) client.terminate();
      wss.close();
      await server.close();
    },
  };
}

function findNode(graph: Graph, classType: string) {
  return Object.values(graph).find((node) => node.class_type === classType);
}
