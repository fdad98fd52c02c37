import 'reflect-metadata';
import { Entity, Field } from '../../../lib/index.js';
import { checkReplicationOptions } from '../../../lib/replication/replication-options.util.js';
import { makeTempDir } from '../../support/temp-dir.util.js';
import { createTestApp } from '../../support/test-app.util.js';

@Entity('ro-notes')
class Note {
  @Field() title!: string;
}

describe('replication options', () => {
  it('accepts one URL or a list, and leaves the rest to their defaults', () => {
    expect(() => checkReplicationOptions({ servers: 'nats://127.0.0.1:4222' })).not.toThrow();
    expect(() => checkReplicationOptions({ servers: ['nats://a:4222', 'nats://b:4222'], stream: 'PERMITS_1', replicas: 3, timeout: 250 })).not.toThrow();
  });

  it.each([
    [{ servers: [] }, /servers must be/],
    [{ servers: ['nats://a:4222', ' '] }, /servers must be/],
    [{ servers: 'nats://a:4222', stream: 'a.b' }, /stream must be a NATS stream name/],
    [{ servers: 'nats://a:4222', stream: '' }, /stream must be a NATS stream name/],
    [{ servers: 'nats://a:4222', replicas: 0 }, /replicas must be a whole number from 1 to 5/],
    [{ servers: 'nats://a:4222', replicas: 2.5 }, /replicas must be/],
    [{ servers: 'nats://a:4222', timeout: 0 }, /timeout must be a positive number/],
    [{ servers: 'nats://a:4222', timeout: Number.NaN }, /timeout must be/],
    [{ servers: 'nats://a:4222', adoptLocalStore: 'yes' }, /adoptLocalStore must be true or false/],
  ])('refuses %j', (options, problem) => {
    expect(() => checkReplicationOptions(options as never)).toThrow(problem);
  });

  it('names every problem at once', () => {
    expect(() => checkReplicationOptions({ servers: [], replicas: 9 })).toThrow(/servers must be .*; replicas must be/);
  });

  it('fails the app at start-up, before it connects to anything', async () => {
    const dir = makeTempDir();
    try {
      await expect(
        createTestApp({ entities: [Note], path: dir.path, module: { replication: { servers: 'nats://127.0.0.1:1', timeout: -1 } } }),
      ).rejects.toThrow(/replication options: timeout must be a positive number/);
    } finally {
      dir.remove();
    }
  });
});
