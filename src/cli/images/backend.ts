import { fromJson, type JsonObject, toJson } from '@bufbuild/protobuf';
import type { ListImagesOptions } from '../../catalog/images.ts';
import { ImageSchema, ListImagesRequestSchema } from '../../gen/pixel/v1/images_pb.ts';
import type { PlatformConfig } from '../../platform/config.ts';
import { toImage } from '../../server/convert.ts';
import type { Caller } from '../../server/image-service.ts';
import { fromConnectError, imageClient } from '../generate/remote.ts';
import { openStoreTarget } from '../generate/route.ts';
import { listRequestJson } from './filters.ts';

/** Images in the RPC's JSON form (GetImage / ListImages), whichever side answered. */
export type ImageJson = JsonObject;

/** The three image use cases, answered by this process's catalogue or by the server holding it. */
export interface ImagesBackend {
  /** Where the answers come from, for the human output. */
  where: string;
  list(options: ListImagesOptions): Promise<{ images: ImageJson[]; nextPageToken?: string }>;
  get(id: string): Promise<ImageJson>;
  delete(id: string): Promise<boolean>;
  close(): Promise<void>;
}

/**
 * The local operator owns the database it opens, so it acts as an admin (every team; --team narrows), like
 * `pixel keys` and `pixel apps`. Through a server it is whoever PIXEL_API_KEY is (anonymous: team local).
 */
const OPERATOR: Caller = { team: 'local', role: 'admin' };

export async function openImagesBackend(
  config: PlatformConfig,
  options: { server?: string; apiKey?: string; notice: (line: string) => void },
): Promise<ImagesBackend> {
  let url = options.server;
  if (url === undefined) {
    const target = await openStoreTarget(config);
    if (target.kind === 'here') {
      const { platform } = target;
      const json = (image: Parameters<typeof toImage>[0]) => toJson(ImageSchema, toImage(image)) as ImageJson;
      return {
        where: 'the catalogue',
        async list(list) {
          const result = await platform.images.list(list, OPERATOR);
          return {
            images: result.images.map(json),
            ...(result.nextCursor !== undefined && { nextPageToken: result.nextCursor }),
          };
        },
        get: async (id) => json(await platform.images.get(id, OPERATOR)),
        delete: (id) => platform.images.delete(id, OPERATOR),
        close: () => platform.close(),
      };
    }
    options.notice(
      `the catalogue in this data folder is held by \`pixel serve\` (process ${target.pid}) at ${target.url}; asking it`,
    );
    url = target.url;
  }
  const serverUrl = url;
  const client = imageClient(serverUrl, options.apiKey);
  const wrap = async <T>(call: () => Promise<T>): Promise<T> => {
    try {
      return await call();
    } catch (error) {
      throw fromConnectError(error, serverUrl);
    }
  };
  return {
    where: serverUrl,
    list: (list) =>
      wrap(async () => {
        const answer = await client.listImages(
          fromJson(ListImagesRequestSchema, listRequestJson(list) as JsonObject),
        );
        return {
          images: answer.images.map((image) => toJson(ImageSchema, image) as ImageJson),
          ...(answer.nextPageToken !== '' && { nextPageToken: answer.nextPageToken }),
        };
      }),
    get: (id) => wrap(async () => toJson(ImageSchema, await client.getImage({ id })) as ImageJson),
    delete: (id) => wrap(async () => (await client.deleteImage({ id })).deleted),
    close: async () => {},
  };
}
