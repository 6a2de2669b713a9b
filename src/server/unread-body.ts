import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * An HTTP/1.1 answer sent before the request body was read to its end (a body over the size limit is
 * refused from its Content-Length) closes the connection: the unread rest of the body would otherwise
 * sit in front of the next request on the same keep-alive connection, and that request would hang.
 */
export function closeIfBodyUnread(req: IncomingMessage, res: ServerResponse): void {
  const writeHead = res.writeHead;
  res.writeHead = function (this: ServerResponse, ...args: unknown[]) {
    if (!req.complete) {
      res.shouldKeepAlive = false;
      // Whatever still arrives is discarded until the connection closes.
      req.resume();
    }
    return (writeHead as (...a: unknown[]) => ServerResponse).apply(this, args);
  } as typeof res.writeHead;
}
