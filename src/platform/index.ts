export { composePlatform, type Platform, type PlatformDeps, type PlatformOptions } from './compose.ts';
export { configError, isSet, type PlatformConfig, platformConfigFromEnv } from './config.ts';
export { composeModels, type ModelPlatform, type ModelPlatformDeps } from './models.ts';
export { openPlatformDatabase, openPlatformStore } from './open.ts';
