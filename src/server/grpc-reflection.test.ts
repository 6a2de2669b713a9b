import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { create, createFileRegistry, fromBinary, toBinary } from '@bufbuild/protobuf';
import {
  type FileDescriptorProto,
  FileDescriptorProtoSchema,
  FileDescriptorSetSchema,
} from '@bufbuild/protobuf/wkt';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './test-support.ts';

/**
 * A plain gRPC client (grpc-js, the protos loaded at run time) that knows only the reflection protocol:
 * it discovers the services through reflection, builds the health service's messages from the
 * descriptors the server sent, and calls it, as grpcurl and `buf curl` do.
 */

const PROTO_ROOT = fileURLToPath(new URL('../../proto', import.meta.url));

interface ReflectionAnswer {
  valid_host: string;
  original_request: Record<string, unknown>;
  message_response: string;
  list_services_response?: { service: Array<{ name: string }> };
  file_descriptor_response?: { file_descriptor_proto: Buffer[] };
  error_response?: { error_code: number; error_message: string };
}

type ReflectionClient = grpc.Client & {
  ServerReflectionInfo(): grpc.ClientDuplexStream<Record<string, unknown>, ReflectionAnswer>;
};

function reflectionClient(version: 'v1' | 'v1alpha', address: string): ReflectionClient {
  const definition = protoLoader.loadSync(`grpc/reflection/${version}/reflection.proto`, {
    includeDirs: [PROTO_ROOT],
    keepCase: true,
    oneofs: true,
  });
  const loaded = grpc.loadPackageDefinition(definition) as unknown as {
    grpc: { reflection: Record<string, { ServerReflection: grpc.ServiceClientConstructor }> };
  };
  const Client = loaded.grpc.reflection[version]!.ServerReflection;
  return new Client(address, grpc.credentials.createInsecure()) as unknown as ReflectionClient;
}

/** Sends each request on one stream and collects one answer per request. */
async function ask(client: ReflectionClient, requests: Array<Record<string, unknown>>) {
  const call = client.ServerReflectionInfo();
  const answers: ReflectionAnswer[] = [];
  const done = new Promise<void>((resolve, reject) => {
    call.on('data', (answer: ReflectionAnswer) => answers.push(answer));
    call.on('error', reject);
    call.on('end', resolve);
  });
  for (const request of requests) call.write(request);
  call.end();
  await done;
  return answers;
}

let t: TestServer;
let address: string;
beforeAll(async () => {
  // Keys required: probes and schema discovery must still answer without one.
  t = await startTestServer({ env: { PIXEL_REQUIRE_KEYS: 'true' } });
  address = t.url.replace(/^http:\/\//, '');
});
afterAll(async () => {
  await t?.stop();
});

describe('gRPC server reflection', () => {
  it('lists every service, its own and health included (v1 and v1alpha)', async () => {
    for (const version of ['v1', 'v1alpha'] as const) {
      const client = reflectionClient(version, address);
      try {
        const [answer] = await ask(client, [{ host: '', list_services: '' }]);
        expect(answer!.message_response).toBe('list_services_response');
        const names = answer!.list_services_response!.service.map((s) => s.name);
        // Every service the server registered (others join as they are added), sorted.
        expect(names).toEqual(
          expect.arrayContaining([
            'grpc.health.v1.Health',
            'grpc.reflection.v1.ServerReflection',
            'grpc.reflection.v1alpha.ServerReflection',
            'pixel.v1.ApplicationService',
            'pixel.v1.ImageService',
            'pixel.v1.ModelService',
          ]),
        );
        expect(names).toEqual([...names].sort());
      } finally {
        client.close();
      }
    }
  });

  it('answers symbols and file names with the file and its imports, and says what it does not know', async () => {
    const client = reflectionClient('v1', address);
    try {
      const answers = await ask(client, [
        { file_containing_symbol: 'pixel.v1.ImageService' },
        { file_containing_symbol: 'pixel.v1.ImageService.Generate' },
        { file_by_filename: 'pixel/v1/models.proto' },
        { file_containing_symbol: 'pixel.v1.NoSuchThing' },
      ]);
      const names = (a: ReflectionAnswer) =>
        a.file_descriptor_response!.file_descriptor_proto.map(
          (bytes) => fromBinary(FileDescriptorProtoSchema, bytes).name,
        );
      expect(names(answers[0]!)[0]).toBe('pixel/v1/images.proto');
      // Every import comes along, so the client can resolve every type.
      const first = answers[0]!.file_descriptor_response!.file_descriptor_proto.map((b) =>
        fromBinary(FileDescriptorProtoSchema, b),
      );
      const sent = new Set(first.map((f) => f.name));
      for (const file of first) for (const dependency of file.dependency) expect(sent).toContain(dependency);
      expect(names(answers[1]!)[0]).toBe('pixel/v1/images.proto');
      expect(names(answers[2]!)[0]).toBe('pixel/v1/models.proto');
      expect(answers[3]!.message_response).toBe('error_response');
      expect(answers[3]!.error_response!.error_code).toBe(grpc.status.NOT_FOUND);
      expect(answers[3]!.error_response!.error_message).toContain('pixel.v1.NoSuchThing');
    } finally {
      client.close();
    }
  });

  it('lets a client that knows only reflection discover and call grpc.health.v1.Health, without a key', async () => {
    const client = reflectionClient('v1', address);
    let files: FileDescriptorProto[];
    try {
      const [answer] = await ask(client, [{ file_containing_symbol: 'grpc.health.v1.Health' }]);
      files = answer!.file_descriptor_response!.file_descriptor_proto.map((b) =>
        fromBinary(FileDescriptorProtoSchema, b),
      );
    } finally {
      client.close();
    }
    const registry = createFileRegistry(create(FileDescriptorSetSchema, { file: files }));
    const health = registry.getService('grpc.health.v1.Health')!;
    const check = health.methods.find((m) => m.name === 'Check')!;
    const Generic = grpc.makeGenericClientConstructor(
      {
        Check: {
          path: `/${health.typeName}/${check.name}`,
          requestStream: false,
          responseStream: false,
          requestSerialize: (value: Record<string, unknown>) =>
            Buffer.from(toBinary(check.input, create(check.input, value))),
          requestDeserialize: (bytes: Buffer) => fromBinary(check.input, bytes),
          responseSerialize: () => Buffer.alloc(0),
          responseDeserialize: (bytes: Buffer) => fromBinary(check.output, bytes),
        },
      },
      'Health',
    );
    const healthClient = new Generic(address, grpc.credentials.createInsecure()) as unknown as grpc.Client & {
      Check(
        request: Record<string, unknown>,
        callback: (error: grpc.ServiceError | null, response?: { status: number }) => void,
      ): void;
    };
    const callCheck = (service: string) =>
      new Promise<{ status: number }>((resolve, reject) =>
        healthClient.Check({ service }, (error, response) => (error ? reject(error) : resolve(response!))),
      );
    try {
      const servingEnum = registry.getEnum('grpc.health.v1.HealthCheckResponse.ServingStatus')!;
      const serving = servingEnum.values.find((v) => v.name === 'SERVING')!.number;
      expect((await callCheck('')).status).toBe(serving);
      expect((await callCheck('pixel.v1.ImageService')).status).toBe(serving);
      await expect(callCheck('pixel.v1.Nope')).rejects.toMatchObject({ code: grpc.status.NOT_FOUND });
    } finally {
      healthClient.close();
    }
  });

  it('answers `buf curl` with no schema given (it asks reflection)', async () => {
    const buf = fileURLToPath(new URL('../../node_modules/.bin/buf', import.meta.url));
    const { stdout } = await promisify(execFile)(
      buf,
      [
        'curl',
        '--protocol',
        'grpc',
        '--http2-prior-knowledge',
        '-d',
        '{}',
        `${t.url}/grpc.health.v1.Health/Check`,
      ],
      { timeout: 20_000 },
    );
    expect(JSON.parse(stdout)).toEqual({ status: 'SERVING' });
  });

  it('still requires a key for Pixel services on the same connection', async () => {
    const definition = protoLoader.loadSync('pixel/v1/models.proto', { includeDirs: [PROTO_ROOT] });
    const loaded = grpc.loadPackageDefinition(definition) as unknown as {
      pixel: { v1: { ModelService: grpc.ServiceClientConstructor } };
    };
    const client = new loaded.pixel.v1.ModelService(
      address,
      grpc.credentials.createInsecure(),
    ) as unknown as grpc.Client & {
      ListModels(request: object, callback: (error: grpc.ServiceError | null) => void): void;
    };
    try {
      const error = await new Promise<grpc.ServiceError | null>((resolve) =>
        client.ListModels({}, (e) => resolve(e)),
      );
      expect(error?.code).toBe(grpc.status.UNAUTHENTICATED);
    } finally {
      client.close();
    }
  });
});
