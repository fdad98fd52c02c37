import { request, type IncomingHttpHeaders } from 'node:http';

/** One Server-Sent Event as the stream carried it. */
export interface SseFrame {
  id?: string;
  event?: string;
  data?: string;
}

/** An open event stream, read frame by frame; or, when the server refused it, its status and body. */
export interface SseStream {
  status: number;
  headers: IncomingHttpHeaders;
  /** The body of a refused stream (not 200). */
  body: string;
  /** The next frame; fails after `timeoutMs` without one. Comment lines (pings) are skipped. */
  next(timeoutMs?: number): Promise<SseFrame>;
  /** Settles once the server ends the stream. */
  ended: Promise<void>;
  /** The frames that arrive within `ms`. */
  within(ms: number): Promise<SseFrame[]>;
  close(): void;
}

/** Opens `url` as an event stream, as a browser's EventSource would (GET, `Accept: text/event-stream`). */
export function openSse(url: string, headers: Record<string, string> = {}): Promise<SseStream> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { accept: 'text/event-stream', ...headers } }, (res) => {
      res.setEncoding('utf8');
      const frames: SseFrame[] = [];
      const waiting: Array<(frame: SseFrame) => void> = [];
      let buffer = '';
      let body = '';
      const deliver = (frame: SseFrame) => (waiting.length > 0 ? waiting.shift()!(frame) : frames.push(frame));
      res.on('data', (chunk: string) => {
        if (res.statusCode !== 200) {
          body += chunk;
          return;
        }
        buffer += chunk;
        for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const frame: SseFrame = {};
          let fields = 0;
          for (const line of block.split('\n')) {
            if (line.startsWith(':') || line === '') continue;
            const colon = line.indexOf(':');
            const name = colon < 0 ? line : line.slice(0, colon);
            const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
            if (name === 'id' || name === 'event' || name === 'data') {
              frame[name] = name === 'data' && frame.data !== undefined ? `${frame.data}\n${value}` : value;
              fields++;
            }
          }
          if (fields > 0) deliver(frame);
        }
      });
      const ended = new Promise<void>((done) => res.once('end', () => done()));
      const stream: SseStream = {
        ended,
        status: res.statusCode ?? 0,
        headers: res.headers,
        get body() {
          return body;
        },
        next(timeoutMs = 5_000) {
          const ready = frames.shift();
          if (ready) return Promise.resolve(ready);
          return new Promise((resolveFrame, rejectFrame) => {
            const timer = setTimeout(() => {
              waiting.splice(waiting.indexOf(onFrame), 1);
              rejectFrame(new Error(`no event within ${timeoutMs} ms`));
            }, timeoutMs);
            const onFrame = (frame: SseFrame) => {
              clearTimeout(timer);
              resolveFrame(frame);
            };
            waiting.push(onFrame);
          });
        },
        async within(ms) {
          await new Promise((done) => setTimeout(done, ms));
          return frames.splice(0);
        },
        close() {
          req.destroy();
        },
      };
      if (res.statusCode === 200) resolve(stream);
      else res.on('end', () => resolve(stream));
    });
    req.on('error', (error) => {
      if ((error as NodeJS.ErrnoException).code !== 'ECONNRESET') reject(error);
    });
    req.end();
  });
}
