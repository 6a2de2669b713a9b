export { type ApplicationResolver, type ApplicationUse, applyApplication } from './apply.ts';
export {
  APPS_DIR,
  appsDir,
  loadApplicationFiles,
  parseApplicationObject,
  parseApplicationText,
} from './load.ts';
export { type Actor, teamLabel } from './permissions.ts';
export {
  type Provenance,
  type ResolvedApplication,
  type ResolveInput,
  resolveApplication,
} from './resolve.ts';
export { type AppProfile, AppProfileSchema } from './schema.ts';
export { Applications, type PreviewResult, type SyncReport } from './service.ts';
export { renderTemplate, validateVars } from './template.ts';
export type { ApplicationVersions, VersionRecord } from './versions.ts';
