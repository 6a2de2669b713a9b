/** What the application use cases need from storage; `AppVersionRepo` (src/catalog/) implements it on SQL. */
import type { LoadedApp } from './load.ts';
import type { Actor } from './permissions.ts';
import type { AppProfile } from './schema.ts';

export interface VersionRecord {
  application: string;
  version: number;
  profile: AppProfile;
  contentHash: string;
  source: 'file' | 'edit';
  sourceFile: string | null;
  baseVersion: number | null;
  author: string;
  authorTeam: string | null;
  message: string;
  createdAt: Date;
}

export interface LabelRecord {
  label: string;
  version: number;
  /** Versions the label pointed at before, oldest first: a rollback pops the last one. */
  history: number[];
  updatedBy: string;
  updatedAt: Date;
}

export interface AuditEntry {
  id: number;
  application: string;
  action: 'load' | 'create' | 'label' | 'rollback';
  actor: string;
  actorTeam: string | null;
  actorRole: string | null;
  version: number | null;
  label: string | null;
  previousVersion: number | null;
  message: string;
  createdAt: Date;
}

export interface AppSummary {
  name: string;
  title: string;
  latestVersion: number;
  /** The file default's version (the newest version loaded from `apps/*.yaml`), if any. */
  defaultVersion: number | null;
  labels: Record<string, number>;
}

/** How a version was found: `version` / `label:<name>` when asked for, else the step of the resolution order. */
export type ResolvedVia = 'version' | `label:${string}` | `team:${string}` | 'production' | 'default';

export interface ResolveVersionOptions {
  label?: string;
  version?: number;
  team?: string;
}

export interface ApplicationVersions {
  /** Loads a file default as a version unless the newest file-sourced version has the same content. */
  loadFile(app: LoadedApp): Promise<{ version: number; created: boolean }>;
  createVersion(
    app: LoadedApp,
    actor: Actor,
    options?: { label?: string; message?: string; baseVersion?: number },
  ): Promise<{ version: number; label?: string }>;
  setLabel(
    application: string,
    label: string,
    version: number,
    actor: Actor,
    message?: string,
  ): Promise<{ previous: number | null }>;
  rollback(
    application: string,
    label: string,
    actor: Actor,
    to?: number,
  ): Promise<{ from: number; to: number }>;
  exists(application: string): Promise<boolean>;
  getVersion(application: string, version: number): Promise<VersionRecord | undefined>;
  versions(application: string): Promise<VersionRecord[]>;
  labels(application: string): Promise<LabelRecord[]>;
  audit(application: string, limit?: number): Promise<AuditEntry[]>;
  list(): Promise<AppSummary[]>;
  resolveVersion(
    application: string,
    options?: ResolveVersionOptions,
  ): Promise<{ record: VersionRecord; via: ResolvedVia }>;
}
