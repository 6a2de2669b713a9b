export { type DeliverableImage, type DeliveredImage, deliver } from './deliver.ts';
export { encodeAs, formatOfMediaType, MEDIA_TYPES } from './formats.ts';
