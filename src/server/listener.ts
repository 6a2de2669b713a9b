import type { Server as HttpServer } from 'node:http';
import type { Http2Server, Http2Session } from 'node:http2';
import { createServer, type Server, type Socket } from 'node:net';

/** The first bytes of every HTTP/2 connection (RFC 9113 §3.4); 24 bytes, but the first line is decisive. */
const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n');
/** A client that sends nothing for this long is dropped before it reaches either server. */
const FIRST_BYTES_TIMEOUT_MS = 30_000;

export interface SharedPortListener {
  server: Server;
  port: number;
  /** Stops accepting connections (open ones are left to their servers). */
  stopAccepting(): Promise<void>;
  /** Open HTTP/2 sessions, for a graceful GOAWAY at shutdown. */
  readonly sessions: ReadonlySet<Http2Session>;
  /** Every open connection (for the last resort at shutdown). */
  readonly sockets: ReadonlySet<Socket>;
}

/**
 * One TCP port for HTTP/1.1 and HTTP/2 cleartext (h2c with prior knowledge, what gRPC clients speak).
 * Node has no such server built in (`http2.createServer` refuses HTTP/1.1 without TLS/ALPN), so each
 * connection's first bytes are peeked: the HTTP/2 preface goes to the HTTP/2 server, anything else to the
 * HTTP/1.1 server. The bytes are put back with `unshift` so the chosen server parses from the start.
 */
export async function listenSharedPort(options: {
  host: string;
  port: number;
  http1: HttpServer;
  http2: Http2Server;
  /** Connections wait here until the servers are ready (the port is needed to build them). */
  ready: Promise<void>;
}): Promise<SharedPortListener> {
  const sessions = new Set<Http2Session>();
  const sockets = new Set<Socket>();
  options.http2.on('session', (session: Http2Session) => {
    sessions.add(session);
    session.once('close', () => sessions.delete(session));
  });
  let ready = false;
  void options.ready.then(
    () => {
      ready = true;
    },
    () => {},
  );

  const dispatch = (socket: Socket, head: Buffer) => {
    if (socket.destroyed) return;
    // Our error listener stays until here: the chosen server attaches its own on 'connection'.
    socket.removeAllListeners('error');
    socket.unshift(head);
    const isHttp2 = head.length >= PREFACE.length ? head.subarray(0, PREFACE.length).equals(PREFACE) : false;
    (isHttp2 ? options.http2 : options.http1).emit('connection', socket);
  };

  // noDelay as Node's own HTTP servers have it: with Nagle's algorithm on, the last part of a large
  // answer waits for the client to acknowledge the rest before it is sent.
  const server = createServer({ pauseOnConnect: false, noDelay: true }, (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.setTimeout(FIRST_BYTES_TIMEOUT_MS, () => socket.destroy());
    socket.on('error', () => socket.destroy());
    let buffered = Buffer.alloc(0);
    // Paused mode ('readable' + read()) so the socket never starts flowing before its server owns it.
    const onReadable = () => {
      for (
        let chunk = socket.read() as Buffer | null;
        chunk !== null;
        chunk = socket.read() as Buffer | null
      ) {
        buffered = Buffer.concat([buffered, chunk]);
      }
      // Decide as soon as the bytes differ from the preface or the whole preface line is there.
      const n = Math.min(buffered.length, PREFACE.length);
      if (n < PREFACE.length && buffered.subarray(0, n).equals(PREFACE.subarray(0, n))) return;
      socket.off('readable', onReadable);
      socket.setTimeout(0);
      const head = buffered;
      if (ready) dispatch(socket, head);
      else
        options.ready.then(
          () => dispatch(socket, head),
          () => socket.destroy(),
        );
    };
    socket.on('readable', onReadable);
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : options.port;
  return {
    server,
    port,
    sessions,
    sockets,
    stopAccepting: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
