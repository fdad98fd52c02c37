import { createCipheriv, randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';
import fc from 'fast-check';
import { decodeCursor, encodeCursor, type CursorPosition } from '../../../lib/query/cursor.util.js';
import { InvalidQueryException } from '../../../lib/query/invalid-query.exception.js';
import { MISSING } from '../../../lib/storage/index-key.util.js';

const key = randomBytes(32);

/** Seals any JSON payload the way cursors are sealed (AES-256-GCM: iv, tag, ciphertext), to probe shape checks. */
function seal(payload: unknown, sealKey = key): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', sealKey, iv);
  const body = Buffer.concat([cipher.update(JSON.stringify(payload), 'utf8'), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url');
}

/** A cursor in id order around any payload, with a right checksum, to probe shape checks. */
function idOrderCursor(payload: unknown): string {
  const body = Buffer.from(JSON.stringify(payload), 'utf8');
  const checksum = Buffer.alloc(4);
  checksum.writeUInt32BE(crc32(body));
  return `~${Buffer.concat([checksum, body]).toString('base64url')}`;
}

describe('cursors', () => {
  it.each<CursorPosition>([
    { sort: 'id', value: MISSING, id: '01J0000000000000000000000A' },
    { sort: '-amount', value: -12.5, id: '01J0000000000000000000000B' },
    { sort: 'paid', value: true, id: 'x' },
    { sort: 'title', value: 'Straße 😀 "quoted" \\ back', id: 'y' },
  ])('reads back the position it encoded: %j', (position) => {
    const cursor = encodeCursor(position, key);
    expect(cursor).toMatch(/^~?[A-Za-z0-9_-]+$/);
    expect(decodeCursor(cursor, position.sort, key)).toEqual(position);
  });

  it('reads back any position it encoded (property)', () => {
    const value = fc.oneof(fc.constant(MISSING), fc.boolean(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.string({ unit: 'binary' }));
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), value, fc.string(), (sort, value, id) => {
        fc.pre(sort !== 'id' && sort !== '-id');
        const decoded = decodeCursor(encodeCursor({ sort, value, id }, key), sort, key);
        // JSON has no -0: a cursor value of -0 comes back as 0, which orders the same.
        expect(decoded).toEqual({ sort, value: Object.is(value, -0) ? 0 : value, id });
      }),
      { numRuns: 300 },
    );
  });

  it('reads back any position of a page in id order (property)', () => {
    fc.assert(
      fc.property(fc.constantFrom('id', '-id'), fc.stringMatching(/^[A-Za-z0-9_-]{1,128}$/), (sort, id) => {
        expect(decodeCursor(encodeCursor({ sort, value: MISSING, id }, key), sort, key)).toEqual({ sort, value: MISSING, id });
      }),
      { numRuns: 300 },
    );
  });

  it('writes the cursor of a page in id order without sealing it: the id is on the page', () => {
    const cursor = encodeCursor({ sort: 'id', value: MISSING, id: '01J0000000000000000000000A' }, key);
    expect(cursor).toMatch(/^~[A-Za-z0-9_-]+$/);
    expect(Buffer.from(cursor.slice(1), 'base64url').toString('utf8')).toContain('01J0000000000000000000000A');
    expect(decodeCursor(cursor, 'id', randomBytes(32))).toEqual({ sort: 'id', value: MISSING, id: '01J0000000000000000000000A' });
  });

  it('refuses a cursor of a page in id order whose text was changed anywhere', () => {
    const cursor = encodeCursor({ sort: 'id', value: MISSING, id: '01J0000000000000000000000A' }, key);
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    // Not the last character: its low bits may be padding, so changing it may change nothing.
    for (let at = 1; at < cursor.length - 1; at++) {
      const flipped = alphabet[(alphabet.indexOf(cursor[at]!) + 1) % alphabet.length]!;
      expect(() => decodeCursor(`${cursor.slice(0, at)}${flipped}${cursor.slice(at + 1)}`, 'id', key)).toThrow('cursor is not valid');
    }
  });

  it.each([
    ['a checksum over the wrong text', `~${Buffer.concat([Buffer.alloc(4), Buffer.from('["id","x"]')]).toString('base64url')}`],
    ['an id no record can have', idOrderCursor(['id', 'a b'])],
    ['an id that is not a string', idOrderCursor(['id', 7])],
    ['a sort that is not id order', idOrderCursor(['amount', 'x'])],
    ['an array of the wrong length', idOrderCursor(['id', 'x', 'y'])],
    ['nothing after the marker', '~'],
  ])('refuses a cursor in id order with %s', (_label, cursor) => {
    expect(() => decodeCursor(cursor, 'id', key)).toThrow('cursor is not valid');
  });

  it('refuses a cursor of one id order in the other, naming both', () => {
    const cursor = encodeCursor({ sort: 'id', value: MISSING, id: 'x' }, key);
    expect(() => decodeCursor(cursor, '-id', key)).toThrow('cursor was made for sort=id, not sort=-id');
  });

  it('does not show the sort value or the id to the client', () => {
    const cursor = encodeCursor({ sort: 'salary', value: 'secret-value', id: 'record-id' }, key);
    const bytes = Buffer.from(cursor, 'base64url').toString('latin1');
    expect(bytes).not.toContain('secret-value');
    expect(bytes).not.toContain('record-id');
  });

  it.each([
    ['an empty string', ''],
    ['text that is not base64url', 'not a cursor!'],
    ['plain base64url JSON', Buffer.from(JSON.stringify(['id', null, 'x'])).toString('base64url')],
    ['sealed JSON that is not an array', seal({ sort: 'id', value: null, id: 'x' })],
    ['a sealed array of the wrong length', seal(['id', 'v'])],
    ['a sealed sort that is not a string', seal([1, null, 'x'])],
    ['a sealed id that is not a string', seal(['id', null, 7])],
    ['a sealed value that is an object', seal(['id', { a: 1 }, 'x'])],
    ['a sealed value that is null', seal(['id', null, 'x'])],
    ['a sealed value that is an array', seal(['id', [1], 'x'])],
    ['a truncated cursor', encodeCursor({ sort: 'id', value: MISSING, id: 'abc' }, key).slice(0, -3)],
  ])('refuses %s with InvalidQueryException', (_label, cursor) => {
    expect(() => decodeCursor(cursor, 'id', key)).toThrow(InvalidQueryException);
    expect(() => decodeCursor(cursor, 'id', key)).toThrow('cursor is not valid');
  });

  it('refuses a cursor that was tampered with', () => {
    const bytes = Buffer.from(encodeCursor({ sort: 'amount', value: 3, id: 'abc' }, key), 'base64url');
    for (const position of [0, 12, 28, bytes.length - 1]) {
      const tampered = Buffer.from(bytes);
      tampered[position]! ^= 0x01;
      expect(() => decodeCursor(tampered.toString('base64url'), 'amount', key)).toThrow(InvalidQueryException);
    }
  });

  it('refuses a cursor sealed under another key', () => {
    const cursor = encodeCursor({ sort: 'amount', value: 3, id: 'abc' }, randomBytes(32));
    expect(() => decodeCursor(cursor, 'amount', key)).toThrow(InvalidQueryException);
  });

  it('refuses a cursor made for another sort order, naming both', () => {
    const cursor = encodeCursor({ sort: 'amount', value: 3, id: 'x' }, key);
    expect(() => decodeCursor(cursor, '-amount', key)).toThrow(InvalidQueryException);
    expect(() => decodeCursor(cursor, '-amount', key)).toThrow('cursor was made for sort=amount, not sort=-amount');
    expect(() => decodeCursor(cursor, 'id', key)).toThrow(InvalidQueryException);
  });

  it('seals every cursor under an IV of its own, also across refills of the IV pool', () => {
    const position: CursorPosition = { sort: 'amount', value: 3, id: 'same' };
    const cursors = Array.from({ length: 1_000 }, () => encodeCursor(position, key));
    const ivs = cursors.map((cursor) => Buffer.from(cursor, 'base64url').subarray(0, 12).toString('hex'));
    expect(new Set(ivs).size).toBe(cursors.length);
    for (const cursor of cursors) expect(decodeCursor(cursor, 'amount', key)).toEqual(position);
  });
});
