import WebSocket from 'ws';
import { PixelError, redactSecrets } from '../../protocol/errors.ts';
import type { ProviderProgress } from '../types.ts';
import { ExecutionErrorSchema, SocketMessageSchema } from './wire.ts';

/**
 * Follows one client's prompts over ComfyUI's `/ws?clientId=…`. Opened before the prompt is
 * submitted so no event is missed; remembers which prompts finished or failed, since events may
 * arrive before `POST /prompt` has even answered with the id.
 */
export class ProgressSocket {
  readonly #socket: WebSocket;
  readonly #finished = new Set<string>();
  readonly #failures = new Map<string, PixelError>();
  #closed = false;
  #wake: (() => void) | undefined;
  onProgress: ((progress: ProviderProgress) => void) | undefined;

  private constructor(socket: WebSocket) {
    this.#socket = socket;
    socket.on('message', (data, isBinary) => {
      if (!isBinary) this.#handle(data.toString());
    });
    socket.on('close', () => {
      this.#closed = true;
      this.#wake?.();
    });
    socket.on('error', () => {
      this.#closed = true;
      this.#wake?.();
    });
  }

  /** Resolves undefined when the socket cannot be opened, so the caller falls back to polling. */
  static open(
    url: string,
    headers: Record<string, string>,
    timeoutMs: number,
  ): Promise<ProgressSocket | undefined> {
    return new Promise((resolve) => {
      const socket = new WebSocket(url, { headers, handshakeTimeout: timeoutMs });
      const fail = () => {
        socket.removeAllListeners();
        socket.on('error', () => {});
        socket.terminate();
        resolve(undefined);
      };
      socket.once('error', fail);
      socket.once('unexpected-response', fail);
      socket.once('open', () => {
        socket.off('error', fail);
        socket.off('unexpected-response', fail);
        resolve(new ProgressSocket(socket));
      });
    });
  }

  /** False once the connection dropped: the caller then polls history only. */
  get alive(): boolean {
    return !this.#closed;
  }

  isFinished(promptId: string): boolean {
    return this.#finished.has(promptId);
  }

  failureOf(promptId: string): PixelError | undefined {
    return this.#failures.get(promptId);
  }

  /** Waits until some prompt of this client finishes, the socket drops, the time passes or the signal fires. */
  waitForEvent(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        this.#wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal?.addEventListener('abort', done, { once: true });
      this.#wake = done;
      if (this.#closed || signal?.aborted) done();
    });
  }

  close(): void {
    this.#closed = true;
    this.#socket.removeAllListeners();
    this.#socket.on('error', () => {});
    this.#socket.close();
  }

  #handle(text: string): void {
    let parsed: ReturnType<typeof SocketMessageSchema.safeParse>;
    try {
      parsed = SocketMessageSchema.safeParse(JSON.parse(text));
    } catch {
      return;
    }
    if (!parsed.success) return;
    const { type, data } = parsed.data;
    const promptId = typeof data.prompt_id === 'string' ? data.prompt_id : undefined;
    switch (type) {
      case 'execution_start':
        this.onProgress?.({ status: 'running' });
        return;
      case 'progress': {
        const value = Number(data.value);
        const max = Number(data.max);
        if (Number.isFinite(value) && max > 0)
          this.onProgress?.({ status: 'running', fraction: Math.min(1, Math.max(0, value / max)) });
        return;
      }
      case 'executing':
        if (data.node === null && promptId) this.#finish(promptId);
        return;
      case 'execution_success':
        if (promptId) this.#finish(promptId);
        return;
      case 'execution_error':
      case 'execution_interrupted':
        if (promptId) {
          this.#failures.set(promptId, executionFailure(type, data));
          this.#finish(promptId);
        }
        return;
    }
  }

  #finish(promptId: string): void {
    this.#finished.add(promptId);
    this.#wake?.();
  }
}

/** An error raised while the graph ran, or an interruption nobody in this call asked for. */
export function executionFailure(type: string, data: Record<string, unknown>): PixelError {
  if (type === 'execution_interrupted') {
    return new PixelError({
      code: 'cancelled',
      reason: 'cancelled',
      provider: 'comfyui',
      message: 'comfyui: the prompt was interrupted on the server',
    });
  }
  const error = ExecutionErrorSchema.parse(data);
  const where = error.node_type ? ` in ${error.node_type}${error.node_id ? ` #${error.node_id}` : ''}` : '';
  const what = [error.exception_type, error.exception_message].filter(Boolean).join(': ');
  // Out-of-memory clears once the GPU frees up; other node exceptions repeat on retry.
  const oom = /out ?of ?memory/i.test(what);
  return new PixelError({
    code: oom ? 'unavailable' : 'unknown',
    reason: 'provider_error',
    retryable: oom,
    provider: 'comfyui',
    providerRequestId: error.prompt_id,
    message: `comfyui execution failed${where}: ${redactSecrets(what || 'unknown error')}`,
  });
}
