import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client';
import type { Catalog } from '../models/catalog.ts';

export type Surface = 'connect' | 'grpc' | 'grpc-web' | 'openai' | 'files' | 'http';

/** What a handler learned while serving a request, for the request's metric labels. */
export interface Observation {
  model?: string;
  provider?: string;
}

/**
 * One registry per server (not prom-client's global one), so several servers in one process (tests,
 * the benchmark) keep separate counts.
 */
export class ServerMetrics {
  readonly registry = new Registry();
  readonly #requests: Counter<string>;
  readonly #latency: Histogram<string>;
  readonly #images: Counter<string>;
  readonly #bytes: Counter<string>;
  readonly #errors: Counter<string>;
  readonly #limited: Counter<string>;
  readonly #catalog: Catalog;

  constructor(catalog: Catalog, options: { defaultMetrics?: boolean } = {}) {
    this.#catalog = catalog;
    const registers = [this.registry];
    const labels = ['surface', 'method', 'provider', 'model', 'outcome'];
    this.#requests = new Counter({
      name: 'pixel_requests_total',
      help: 'Requests by surface, method, provider, model and outcome (ok or an error code).',
      labelNames: labels,
      registers,
    });
    this.#latency = new Histogram({
      name: 'pixel_request_duration_seconds',
      help: 'Request latency by surface, method, provider, model and outcome.',
      labelNames: labels,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
      registers,
    });
    this.#images = new Counter({
      name: 'pixel_images_stored_total',
      help: 'Images written to the blob store and catalogue.',
      labelNames: ['provider', 'model'],
      registers,
    });
    this.#bytes = new Counter({
      name: 'pixel_image_bytes_stored_total',
      help: 'Bytes of images written to the blob store.',
      labelNames: ['provider', 'model'],
      registers,
    });
    this.#errors = new Counter({
      name: 'pixel_errors_total',
      help: 'Failed requests by surface and error code.',
      labelNames: ['surface', 'code'],
      registers,
    });
    this.#limited = new Counter({
      name: 'pixel_limit_rejections_total',
      help: 'Requests refused by a per-team or per-key limit, by team and limit (team_rpm, team_concurrency, key_rpm, key_concurrency).',
      labelNames: ['team', 'limit'],
      registers,
    });
    if (options.defaultMetrics !== false)
      collectDefaultMetrics({ register: this.registry, prefix: 'pixel_' });
  }

  /** Unknown model names (typos, probes) collapse into one label value, so label cardinality stays bounded. */
  #modelLabel(model: string | undefined): string {
    if (!model) return '';
    if (this.#catalog.get(model) || this.#catalog.aliases().some((a) => a.alias === model)) return model;
    return 'unknown';
  }

  request(surface: Surface, method: string, outcome: string, seconds: number, seen: Observation = {}): void {
    const labels = {
      surface,
      method,
      provider: seen.provider ?? '',
      model: this.#modelLabel(seen.model),
      outcome,
    };
    this.#requests.inc(labels);
    this.#latency.observe(labels, seconds);
    if (outcome !== 'ok') this.#errors.inc({ surface, code: outcome });
  }

  /** Team names are bounded: only teams that hold keys (and `local`) get this far. */
  limitRejected(team: string, limit: string): void {
    this.#limited.inc({ team, limit });
  }

  stored(provider: string, model: string, bytes: number): void {
    const labels = { provider, model: this.#modelLabel(model) };
    this.#images.inc(labels);
    this.#bytes.inc(labels, bytes);
  }

  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
