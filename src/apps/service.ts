import { stringify } from 'yaml';
import type { Catalog } from '../models/catalog.ts';
import { invalidArgument, type PixelError } from '../protocol/errors.ts';
import { translate } from '../translate/translate.ts';
import type { ReportLine, Translation } from '../translate/types.ts';
import { type ApplicationResolver, applyApplication } from './apply.ts';
import { type DiffLine, diffLines, formatUnified } from './diff.ts';
import {
  appsDir,
  type LoadedApp,
  loadApplicationFiles,
  parseApplicationObject,
  parseApplicationText,
} from './load.ts';
import { type Actor, assertCanRead } from './permissions.ts';
import { type ResolvedApplication, type ResolveInput, resolveApplication } from './resolve.ts';
import type {
  ApplicationVersions,
  AppSummary,
  AuditEntry,
  LabelRecord,
  ResolvedVia,
  VersionRecord,
} from './versions.ts';

export interface ApplicationsDeps {
  /** Where versions, labels and audit are kept (the catalogue's `AppVersionRepo`). */
  versions: ApplicationVersions;
  catalog: Catalog;
  /** Folder of the shipped profiles; default `PIXEL_APPS_DIR` or `apps/` at the repository root. */
  dir?: string;
  defaultModel?: string;
  available?: (modelId: string) => boolean;
}

export interface SyncReport {
  loaded: { name: string; version: number; created: boolean }[];
  /** Broken files: each names the file and line; the other applications loaded anyway. */
  errors: PixelError[];
}

export interface ApplicationDetail {
  version: VersionRecord;
  via: ResolvedVia;
  labels: LabelRecord[];
  /** The newest file-loaded version. */
  defaultVersion: number | null;
  latestVersion: number;
  /** Canonical YAML of the profile (what `update --file` takes back). */
  yaml: string;
}

export interface VersionDiff {
  application: string;
  from: number;
  to: number;
  changed: boolean;
  lines: DiffLine[];
  /** Unified diff of the two versions' YAML. */
  text: string;
}

export interface PreviewResult {
  resolved: ResolvedApplication;
  translation: Translation;
  /** Application provenance lines, then the translation report. */
  report: ReportLine[];
}

/**
 * The use cases behind `ApplicationService` (RPC) and `pixel apps` (CLI): file defaults, versions,
 * labels, diff, rollback, resolve and preview, with the caller's permissions.
 */
export class Applications {
  readonly store: ApplicationVersions;
  readonly #deps: ApplicationsDeps;
  #synced: Promise<SyncReport> | undefined;

  constructor(deps: ApplicationsDeps) {
    this.#deps = deps;
    this.store = deps.versions;
  }

  /** Loads the shipped files as versions once per process (a second call returns the first result). */
  syncFileDefaults(): Promise<SyncReport> {
    // A failure (database down) is not remembered: the next call tries again.
    this.#synced ??= this.#sync().catch((error: unknown) => {
      this.#synced = undefined;
      throw error;
    });
    return this.#synced;
  }

  async #sync(): Promise<SyncReport> {
    const { apps, errors } = loadApplicationFiles(this.#deps.dir ?? appsDir());
    const loaded: SyncReport['loaded'] = [];
    for (const app of apps) loaded.push({ name: app.profile.name, ...(await this.store.loadFile(app)) });
    return { loaded, errors };
  }

  async list(actor: Actor): Promise<AppSummary[]> {
    assertCanRead(actor);
    await this.syncFileDefaults();
    return this.store.list();
  }

  /** The version the caller would get (or the one named), with labels. */
  async get(
    name: string,
    actor: Actor,
    options: { label?: string; version?: number } = {},
  ): Promise<ApplicationDetail> {
    assertCanRead(actor);
    await this.syncFileDefaults();
    const { record, via } = await this.store.resolveVersion(name, { ...options, team: actor.team });
    const versions = await this.store.versions(name);
    const fileDefault = versions.find((v) => v.source === 'file');
    return {
      version: record,
      via,
      labels: await this.store.labels(name),
      defaultVersion: fileDefault?.version ?? null,
      latestVersion: versions[0]?.version ?? record.version,
      yaml: stringify(record.profile, { lineWidth: 0 }),
    };
  }

  async versions(name: string, actor: Actor): Promise<{ versions: VersionRecord[]; audit: AuditEntry[] }> {
    assertCanRead(actor);
    await this.syncFileDefaults();
    await this.store.resolveVersion(name); // not_found with suggestions for an unknown name
    return { versions: await this.store.versions(name), audit: await this.store.audit(name) };
  }

  /**
   * A new version from a whole profile (an object, or YAML/JSON text). The profile's `name` must
   * match. Members must publish it under their team label; admins may publish anywhere or nowhere.
   */
  async update(
    name: string,
    profile: unknown,
    actor: Actor,
    options: { label?: string; message?: string; baseVersion?: number; source?: string } = {},
  ): Promise<{ version: number; label?: string }> {
    await this.syncFileDefaults();
    const app: LoadedApp =
      typeof profile === 'string'
        ? parseApplicationText(profile, options.source ?? 'profile')
        : parseApplicationObject(profile);
    if (app.profile.name !== name) {
      throw invalidArgument(
        'profile.name',
        `profile name "${app.profile.name}" does not match application "${name}"`,
      );
    }
    return this.store.createVersion(app, actor, options);
  }

  async label(
    name: string,
    label: string,
    version: number,
    actor: Actor,
    message?: string,
  ): Promise<{ previous: number | null }> {
    await this.syncFileDefaults();
    return this.store.setLabel(name, label, version, actor, message);
  }

  async rollback(
    name: string,
    actor: Actor,
    options: { label?: string; to?: number } = {},
  ): Promise<{ label: string; from: number; to: number }> {
    await this.syncFileDefaults();
    const label = options.label ?? 'production';
    return { label, ...(await this.store.rollback(name, label, actor, options.to)) };
  }

  async diff(name: string, from: number, to: number, actor: Actor): Promise<VersionDiff> {
    assertCanRead(actor);
    await this.syncFileDefaults();
    const [a, b] = [
      await this.store.resolveVersion(name, { version: from }),
      await this.store.resolveVersion(name, { version: to }),
    ];
    const lines = diffLines(
      stringify(a.record.profile, { lineWidth: 0 }),
      stringify(b.record.profile, { lineWidth: 0 }),
    );
    return {
      application: name,
      from,
      to,
      changed: lines.some((l) => l.op !== ' '),
      lines,
      text: formatUnified(lines, `${name}@${from}`, `${name}@${to}`),
    };
  }

  /** Renders an application for a request (the resolver generation uses). */
  async resolve(input: ResolveInput): Promise<ResolvedApplication> {
    await this.syncFileDefaults();
    return resolveApplication(input, {
      store: this.store,
      catalog: this.#deps.catalog,
      defaultModel: this.#deps.defaultModel,
      available: this.#deps.available,
    });
  }

  /** A resolver bound to this instance, for `generate()` and `ImageService`. */
  resolver(): ApplicationResolver {
    return (input) => this.resolve(input);
  }

  /** The exact prompt and native request a model would get, without generating. */
  async preview(input: ResolveInput, actor: Actor): Promise<PreviewResult> {
    assertCanRead(actor);
    const applied = await applyApplication(
      {
        ...(input.request ?? {}),
        ...(input.model !== undefined && { model: input.model }),
        app: input.app,
        vars: input.vars ?? {},
        ...(input.label !== undefined && { appLabel: input.label }),
        ...(input.version !== undefined && { appVersion: input.version }),
      },
      this.resolver(),
      actor.team,
    );
    const translation = translate(applied.input, {
      catalog: this.#deps.catalog,
      defaultModel: this.#deps.defaultModel,
    });
    return {
      resolved: applied.application!.resolved,
      translation,
      report: [...applied.report, ...translation.report],
    };
  }
}
