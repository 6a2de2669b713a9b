import { type DescFile, type DescMessage, type DescService, toBinary } from '@bufbuild/protobuf';
import { FileDescriptorProtoSchema } from '@bufbuild/protobuf/wkt';
import { Code, type ServiceImpl } from '@connectrpc/connect';
import type { ServerReflection as ReflectionV1 } from '../gen/grpc/reflection/v1/reflection_pb.ts';
import type { ServerReflection as ReflectionV1Alpha } from '../gen/grpc/reflection/v1alpha/reflection_pb.ts';

/** A reflection request as both protocol versions carry it (their messages are field-for-field equal). */
interface ReflectionRequest {
  host: string;
  messageRequest:
    | { case: 'fileByFilename'; value: string }
    | { case: 'fileContainingSymbol'; value: string }
    | { case: 'fileContainingExtension'; value: { containingType: string; extensionNumber: number } }
    | { case: 'allExtensionNumbersOfType'; value: string }
    | { case: 'listServices'; value: string }
    | { case: undefined; value?: undefined };
}

type ReflectionAnswer =
  | { case: 'fileDescriptorResponse'; value: { fileDescriptorProto: Uint8Array[] } }
  | { case: 'allExtensionNumbersResponse'; value: { baseTypeName: string; extensionNumber: number[] } }
  | { case: 'listServicesResponse'; value: { service: Array<{ name: string }> } }
  | { case: 'errorResponse'; value: { errorCode: number; errorMessage: string } };

/**
 * What the reflection service knows: the services this server registered, the files declaring them and
 * every file those import, indexed by file name and by each fully-qualified symbol they declare.
 */
export class DescriptorIndex {
  readonly services: readonly string[];
  readonly #files = new Map<string, DescFile>();
  readonly #symbols = new Map<string, DescFile>();
  readonly #extensions = new Map<string, Map<number, DescFile>>();
  readonly #bytes = new Map<DescFile, Uint8Array>();

  constructor(services: readonly DescService[]) {
    this.services = [...new Set(services.map((s) => s.typeName))].sort();
    const visit = (file: DescFile) => {
      if (this.#files.has(file.proto.name)) return;
      this.#files.set(file.proto.name, file);
      for (const dependency of file.dependencies) visit(dependency);
      for (const service of file.services) {
        this.#symbols.set(service.typeName, file);
        for (const method of service.methods) this.#symbols.set(`${service.typeName}.${method.name}`, file);
      }
      for (const e of file.enums) this.#symbols.set(e.typeName, file);
      for (const x of file.extensions) this.#addExtension(x.extendee.typeName, x.number, x.typeName, file);
      for (const message of file.messages) this.#addMessage(message, file);
    };
    for (const service of services) visit(service.file);
  }

  #addMessage(message: DescMessage, file: DescFile): void {
    this.#symbols.set(message.typeName, file);
    for (const field of message.fields) this.#symbols.set(`${message.typeName}.${field.name}`, file);
    for (const e of message.nestedEnums) this.#symbols.set(e.typeName, file);
    for (const x of message.nestedExtensions)
      this.#addExtension(x.extendee.typeName, x.number, x.typeName, file);
    for (const nested of message.nestedMessages) this.#addMessage(nested, file);
  }

  #addExtension(extendee: string, number: number, typeName: string, file: DescFile): void {
    this.#symbols.set(typeName, file);
    const numbers = this.#extensions.get(extendee) ?? new Map<number, DescFile>();
    this.#extensions.set(extendee, numbers);
    numbers.set(number, file);
  }

  /** The file and everything it imports, the file first (clients resolve imports from the rest). */
  #withDependencies(file: DescFile): Uint8Array[] {
    const out: DescFile[] = [];
    const seen = new Set<string>();
    const visit = (f: DescFile) => {
      if (seen.has(f.proto.name)) return;
      seen.add(f.proto.name);
      out.push(f);
      for (const dependency of f.dependencies) visit(dependency);
    };
    visit(file);
    return out.map((f) => {
      const bytes = this.#bytes.get(f) ?? toBinary(FileDescriptorProtoSchema, f.proto);
      this.#bytes.set(f, bytes);
      return bytes;
    });
  }

  answer(request: ReflectionRequest): ReflectionAnswer {
    const m = request.messageRequest;
    const notFound = (what: string): ReflectionAnswer => ({
      case: 'errorResponse',
      value: { errorCode: Code.NotFound, errorMessage: `${what} not found` },
    });
    const files = (file: DescFile): ReflectionAnswer => ({
      case: 'fileDescriptorResponse',
      value: { fileDescriptorProto: this.#withDependencies(file) },
    });
    switch (m.case) {
      case 'listServices':
        return { case: 'listServicesResponse', value: { service: this.services.map((name) => ({ name })) } };
      case 'fileByFilename': {
        const file = this.#files.get(m.value);
        return file ? files(file) : notFound(`file ${m.value}`);
      }
      case 'fileContainingSymbol': {
        const file = this.#symbols.get(m.value.replace(/^\./, ''));
        return file ? files(file) : notFound(`symbol ${m.value}`);
      }
      case 'fileContainingExtension': {
        const file = this.#extensions.get(m.value.containingType)?.get(m.value.extensionNumber);
        return file
          ? files(file)
          : notFound(`extension ${m.value.extensionNumber} of ${m.value.containingType}`);
      }
      case 'allExtensionNumbersOfType': {
        if (!this.#symbols.has(m.value)) return notFound(`type ${m.value}`);
        const numbers = [...(this.#extensions.get(m.value)?.keys() ?? [])].sort((a, b) => a - b);
        return {
          case: 'allExtensionNumbersResponse',
          value: { baseTypeName: m.value, extensionNumber: numbers },
        };
      }
      default:
        return {
          case: 'errorResponse',
          value: { errorCode: Code.InvalidArgument, errorMessage: 'the request sets no message_request' },
        };
    }
  }
}

type ReflectionImpl = ServiceImpl<typeof ReflectionV1> & ServiceImpl<typeof ReflectionV1Alpha>;

/**
 * gRPC server reflection (grpc.reflection.v1 and the older v1alpha: the same messages under two package
 * names), so grpcurl, `buf curl` and IDEs discover the services without a copy of the schema. One answer
 * per request, in order, on one bidirectional stream (gRPC over HTTP/2).
 */
export function reflectionServiceImpl(index: DescriptorIndex): ReflectionImpl {
  return {
    async *serverReflectionInfo(requests: AsyncIterable<ReflectionRequest>) {
      for await (const request of requests) {
        yield {
          validHost: request.host,
          originalRequest: request,
          messageResponse: index.answer(request),
        };
      }
    },
  } as ReflectionImpl;
}
