import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';

/** gRPC's percent-encoding of grpc-message: printable ASCII stays, everything else (and `%`) is encoded. */
export function grpcMessage(text: string): string {
  return text.replace(/[^\x20-\x24\x26-\x7e]+/gu, (run) => encodeURIComponent(run));
}

/**
 * For requests no Connect route matches: gRPC callers get `UNIMPLEMENTED` (12) in a trailers-only
 * answer, as gRPC servers do, instead of an HTTP 404 their clients report as a transport failure.
 */
export function unimplementedFallback(req: Http2ServerRequest, res: Http2ServerResponse): void {
  const contentType = String(req.headers['content-type'] ?? '');
  const path = String(req.headers[':path'] ?? '').split('?')[0] ?? '';
  if (!contentType.startsWith('application/grpc')) {
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ code: 'unimplemented', message: `no method ${path.slice(0, 200)}` }));
    return;
  }
  // Trailers-only: one HEADERS frame that ends the stream.
  req.resume();
  req.stream.respond(
    {
      ':status': 200,
      'content-type': 'application/grpc',
      'grpc-status': '12',
      'grpc-message': grpcMessage(`unknown method ${path.slice(1, 200)}`),
    },
    { endStream: true },
  );
}
