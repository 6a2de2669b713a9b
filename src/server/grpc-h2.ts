import { constants, type Http2ServerRequest, type Http2ServerResponse } from 'node:http2';

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

type H2Handler = (req: Http2ServerRequest, res: Http2ServerResponse) => void;

/**
 * When the answer ends while the caller is still sending (a message over the size limit is refused
 * after its first bytes), the stream is reset with NO_ERROR right behind the trailers, as gRPC servers
 * do. Without it the caller's stream stays open: its client waits on flow control for a write that never
 * completes, and the unsent bytes pile up in its connection until HTTP/2 gives up on it.
 */
export function resetUnreadStreams(handler: H2Handler): H2Handler {
  return (req, res) => {
    const stream = req.stream;
    const sendTrailers = stream.sendTrailers.bind(stream);
    stream.sendTrailers = (headers) => {
      sendTrailers(headers);
      if (req.readableEnded) return;
      // After the trailers have gone out: a reset submitted at once would overtake them.
      setImmediate(() => {
        if (!req.readableEnded && !stream.destroyed) stream.close(constants.NGHTTP2_NO_ERROR);
      });
    };
    handler(req, res);
  };
}
