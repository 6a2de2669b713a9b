/** The catalogue: one import for the service, CLI and jobs. */
export {
  type ApiKeyInfo,
  ApiKeyRepo,
  hashKey,
  ROLES,
  type Role,
  type VerifiedKey,
  validateTeam,
} from './api-keys.ts';
export { decodeCursor, encodeCursor } from './cursor.ts';
export { type Db, defaultPgliteDir, type OpenDatabaseOptions, openDatabase, type Queryable } from './db.ts';
export { type ExportSink, exportToSnowflake, type SnowflakeExportResult } from './export/snowflake.ts';
export { type BeginResult, IDEMPOTENCY_TTL_MS, IdempotencyStore } from './idempotency.ts';
export { idTime, isImageId, newId, newImageId, newUlid } from './ids.ts';
export {
  IMAGE_STATUSES,
  type ImageRecord,
  ImageRepo,
  type ImageStatus,
  type ListImagesOptions,
  type ListImagesResult,
  type NewImageRecord,
} from './images.ts';
export { applyMigrations, loadMigrations } from './migrate.ts';
export { scrubSecrets } from './scrub.ts';
export { type SweepableStore, type SweepResult, sweepOrphanBlobs } from './sweeper.ts';
