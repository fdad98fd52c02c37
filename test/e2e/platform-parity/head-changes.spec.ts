import * as net from 'node:net';
import { Entity, Field } from '../../../lib/index.js';
import { createTestApp, PLATFORMS, type TestApp } from '../../support/test-app.util.js';
import { portOf } from './raw-http.util.js';

@Entity({ name: 'head-feed-items' })
class Item {
  @Field() tag!: string;
}

/** What arrives on `socket` until `done` holds or `ms` pass. */
function readUntil(socket: net.Socket, done: (text: string) => boolean, ms: number): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    const timer = setTimeout(finish, ms);
    function finish() {
      clearTimeout(timer);
      socket.off('data', onData);
      resolve(text);
    }
    function onData(chunk: Buffer) {
      text += chunk.toString('latin1');
      if (done(text)) finish();
    }
    socket.on('data', onData);
  });
}

/**
 * `HEAD /P/changes` (curl -I, a link checker, a health probe) gets the stream's headers, and a
 * HEAD response has no body, so the client is done with it and reuses the keep-alive
 * connection. The server never ends that response (the change loop keeps its subscription
 * open, writing events Node discards), so every later request on the connection waits forever.
 */
describe.each(PLATFORMS)('HEAD on the change feed on %s', (platform) => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({ entities: [Item], platform });
  });

  afterAll(async () => {
    await t?.close();
  });

  it('ends its response, so the next request on the keep-alive connection is answered', async () => {
    const socket = net.connect(await portOf(t), '127.0.0.1');
    try {
      await new Promise((resolve) => socket.once('connect', resolve));
      socket.write('HEAD /head-feed-items/changes HTTP/1.1\r\nHost: localhost\r\n\r\n');
      const head = await readUntil(socket, (text) => text.includes('\r\n\r\n'), 2_000);
      expect(head).toMatch(/^HTTP\/1\.1 200 /);
      expect(head.toLowerCase()).toContain('content-type: text/event-stream');
      socket.write('GET /head-feed-items HTTP/1.1\r\nHost: localhost\r\n\r\n');
      const next = await readUntil(socket, (text) => text.includes('"items"'), 3_000);
      expect(next).toMatch(/^HTTP\/1\.1 200 /);
      expect(next).toContain('"nextCursor"');
    } finally {
      socket.destroy();
    }
  });
});
