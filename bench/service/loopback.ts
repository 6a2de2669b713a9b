// Preloaded (`--import`) into the Portkey gateway, which listens on every interface and has no host
// option: any listen() without a host is bound to 127.0.0.1 instead, so the bench opens no public port.
import { Server } from 'node:net';

const listen = Server.prototype.listen;
Server.prototype.listen = function (this: Server, ...args: unknown[]) {
  const [first, second] = args;
  if (typeof first === 'number' && (second === undefined || typeof second === 'function')) {
    args.splice(1, 0, '127.0.0.1');
  } else if (typeof first === 'number' && second === '0.0.0.0') {
    args[1] = '127.0.0.1';
  } else if (typeof first === 'object' && first !== null && !('host' in first) && 'port' in first) {
    args[0] = { ...first, host: '127.0.0.1' };
  }
  return listen.apply(this, args as Parameters<typeof listen>);
} as typeof listen;
