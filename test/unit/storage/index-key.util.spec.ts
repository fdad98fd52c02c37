import fc from 'fast-check';
import { open, type Database, type Key, type RootDatabase } from 'lmdb';
import { nextRecordId } from '../../../lib/storage/record-id.util.js';
import { afterPrefix, afterStringPrefix, encodeKey, indexKeyOf, MISSING, toKeyComponent, type KeyComponent } from '../../../lib/storage/index-key.util.js';
import { makeTempDir } from '../../support/temp-dir.util.js';

/** LMDB's largest key, in bytes. */
const LMDB_MAX_KEY_BYTES = 1978;

const composite = (fields: string[]) => ({ name: fields.join('_'), fields, unique: false });
const isWellFormed = (text: string) => Buffer.from(text).toString() === text;

describe('toKeyComponent', () => {
  it('turns null and undefined into MISSING (-Infinity), which sorts before numbers and strings', () => {
    expect(toKeyComponent(null)).toBe(MISSING);
    expect(toKeyComponent(undefined)).toBe(MISSING);
  });

  it.each([0, 1, -1, 1.5, -273.15, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER, 1e-300])('keeps the number %p as it is', (value) => {
    expect(toKeyComponent(value)).toBe(value);
    expect(toKeyComponent(value, 3)).toBe(value);
  });

  it('treats -0 as 0, the value a record stores, so both encode and match alike', () => {
    // msgpack stores -0 as 0, and JSON.parse('-0') is -0: an index key must not tell them apart.
    expect(encodeKey([toKeyComponent(-0), 'id']).toString('hex')).toBe(encodeKey([toKeyComponent(0), 'id']).toString('hex'));
  });

  it('keeps booleans as they are', () => {
    expect(toKeyComponent(true)).toBe(true);
    expect(toKeyComponent(false)).toBe(false);
  });

  it.each(['', 'a', 'open', 'Straße', '東京都', '👩‍👩‍👧', 'x'.repeat(500)])('keeps the short string %j as it is', (value) => {
    expect(toKeyComponent(value)).toBe(value);
  });

  it('keeps a string up to its share of the key budget and cuts one byte more', () => {
    // One field: 1700 / 2 = 850 bytes.
    expect(toKeyComponent('x'.repeat(850))).toBe('x'.repeat(850));
    expect(toKeyComponent('x'.repeat(851))).not.toBe('x'.repeat(851));
    // Three fields: 1700 / 4 = 425 bytes.
    expect(toKeyComponent('x'.repeat(425), 3)).toBe('x'.repeat(425));
    expect(toKeyComponent('x'.repeat(426), 3)).not.toBe('x'.repeat(426));
  });

  it('cuts a long string to a prefix of it plus a hash suffix', () => {
    const long = 'permit-'.repeat(500);
    const component = toKeyComponent(long) as string;
    expect(typeof component).toBe('string');
    expect(Buffer.byteLength(component)).toBeLessThanOrEqual(850);
    expect(long.startsWith(component.slice(0, 700))).toBe(true);
    expect(component).not.toBe(long.slice(0, component.length));
  });

  it('gives equal long strings equal components', () => {
    const a = 'é'.repeat(3000) + 'tail';
    const b = 'é'.repeat(3000) + 'tail';
    expect(toKeyComponent(a)).toBe(toKeyComponent(b));
    expect(toKeyComponent(a, 3)).toBe(toKeyComponent(b, 3));
  });

  it('gives distinct long strings that share a long prefix distinct components', () => {
    const prefix = 'x'.repeat(5000);
    expect(toKeyComponent(`${prefix}a`)).not.toBe(toKeyComponent(`${prefix}b`));
    expect(toKeyComponent(`${prefix}a`, 3)).not.toBe(toKeyComponent(`${prefix}b`, 3));
    const emoji = '😀'.repeat(2000);
    expect(toKeyComponent(`${emoji}1`, 3)).not.toBe(toKeyComponent(`${emoji}2`, 3));
  });

  it('never cuts a multi-byte character in half', () => {
    for (const char of ['é', '中', '😀', '👩‍👩‍👧']) {
      for (const count of [1, 2, 3, 5]) {
        const component = toKeyComponent(char.repeat(2000), count) as string;
        expect(isWellFormed(component)).toBe(true);
      }
    }
  });

  it('keeps long strings with control characters whole inside lmdb array keys, in order and apart', async () => {
    const dir = makeTempDir();
    const root = open({ path: dir.path, noSubdir: false });
    try {
      const db = root.openDB('keys', {});
      const values = ['\u0000'.repeat(70), '\u0000'.repeat(69) + '\u0001', 'a\u0000'.repeat(40), 'a\u0005'.repeat(40), 'a\u00050'.repeat(30), 'b'.repeat(70)];
      const ids = values.map(() => nextRecordId());
      await root.transaction(() => values.forEach((value, i) => db.putSync([toKeyComponent(value, 2), 'x', ids[i]!] as Key, null)));
      const keys = [...db.getKeys({ start: Buffer.from([0]) })] as unknown[][];
      expect(keys.map((key) => key.length)).toEqual(values.map(() => 3));
      expect(keys.map((key) => key[2])).toEqual([...values.keys()].sort((a, b) => (values[a]! < values[b]! ? -1 : 1)).map((i) => ids[i]));
    } finally {
      await root.close();
      dir.remove();
    }
  });

  it('is deterministic and exact for any pair of strings (property)', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary', maxLength: 40 }),
        fc.string({ unit: 'binary', maxLength: 3 }),
        fc.string({ unit: 'binary', maxLength: 3 }),
        fc.integer({ min: 0, max: 1200 }),
        fc.integer({ min: 1, max: 4 }),
        (unit, tailA, tailB, repeat, count) => {
          const base = unit.length === 0 ? 'z' : unit;
          const a = base.repeat(Math.ceil(repeat / base.length)) + tailA;
          const b = base.repeat(Math.ceil(repeat / base.length)) + tailB;
          expect(toKeyComponent(a, count) === toKeyComponent(b, count)).toBe(a === b);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('indexKeyOf', () => {
  it('lists the components of the index fields in order, then the id', () => {
    const index = composite(['client', 'amount', 'paid', 'note']);
    expect(indexKeyOf(index, { client: 'acme', amount: 12.5, paid: true }, 'ID1')).toEqual(['acme', 12.5, true, MISSING, 'ID1']);
  });

  it('fits LMDB key limit for a 3-field composite of very long multi-byte strings', () => {
    const index = composite(['a', 'b', 'c']);
    const record = { a: '😀'.repeat(5000), b: '漢字'.repeat(5000), c: '👩‍👩‍👧'.repeat(2000) };
    const key = indexKeyOf(index, record, nextRecordId());
    expect(encodeKey(key).length).toBeLessThanOrEqual(LMDB_MAX_KEY_BYTES);
  });

  it('fits LMDB key limit for any number of fields and any long strings (property)', () => {
    const longText = fc
      .tuple(fc.constantFrom('a', 'é', '中', '😀', '👩‍👩‍👧', '\u{10FFFF}', '\u0001'), fc.integer({ min: 0, max: 3000 }), fc.string({ unit: 'binary' }))
      .map(([char, repeat, tail]) => char.repeat(repeat) + tail);
    fc.assert(
      fc.property(fc.array(longText, { minLength: 1, maxLength: 8 }), (values) => {
        const fields = values.map((_, i) => `f${i}`);
        const record = Object.fromEntries(values.map((value, i) => [`f${i}`, value]));
        const key = indexKeyOf(composite(fields), record, nextRecordId());
        expect(encodeKey(key).length).toBeLessThanOrEqual(LMDB_MAX_KEY_BYTES);
      }),
      { numRuns: 200 },
    );
  });

  describe('in a real LMDB database', () => {
    let dir: ReturnType<typeof makeTempDir>;
    let root: RootDatabase;
    let db: Database<null, Key>;

    beforeEach(() => {
      dir = makeTempDir();
      root = open({ path: dir.path, maxDbs: 2 });
      db = root.openDB('keys', {});
    });

    afterEach(async () => {
      await root.close();
      dir.remove();
    });

    it('stores and reads back the key of a 3-field composite of very long multi-byte strings', async () => {
      const index = composite(['a', 'b', 'c']);
      const id = nextRecordId();
      const key = indexKeyOf(index, { a: '😀'.repeat(5000), b: '東京'.repeat(5000), c: 'ü'.repeat(5000) }, id);
      await db.put(key as Key, null);
      expect([...db.getKeys({})]).toEqual([key]);
    });
  });
});

describe('afterPrefix and afterStringPrefix in a real LMDB database', () => {
  let dir: ReturnType<typeof makeTempDir>;
  let root: RootDatabase;
  let db: Database<null, Key>;

  beforeEach(() => {
    dir = makeTempDir();
    root = open({ path: dir.path, maxDbs: 2 });
    db = root.openDB('keys', {});
  });

  afterEach(async () => {
    await root.close();
    dir.remove();
  });

  const hex = (key: unknown) => encodeKey(key as KeyComponent[]).toString('hex');
  /** Two components are the same key element when lmdb encodes them alike. */
  const sameElement = (a: KeyComponent, b: KeyComponent) => encodeKey([a]).equals(encodeKey([b]));
  const startsWith = (key: readonly KeyComponent[], prefix: readonly KeyComponent[]) =>
    key.length > prefix.length && prefix.every((component, i) => sameElement(component, key[i]!));

  const text = fc
    .oneof(
      fc.constantFrom('', 'a', 'ab', 'abc', 'b', 'B', '\u0001', '\u001b', '\u001bx', 'é', 'éa', '中', '😀', '😀a', '\u{10FFFF}'),
      fc.string({ maxLength: 6 }),
      fc.string({ unit: 'binary', maxLength: 4 }),
    )
    .filter((value) => !value.includes('\u0000') && isWellFormed(value));
  const component: fc.Arbitrary<KeyComponent> = fc.oneof(
    fc.constant(MISSING),
    fc.boolean(),
    fc.integer({ min: -3, max: 3 }),
    // toKeyComponent turns -0 into 0, so keys never hold -0.
    fc.double({ noNaN: true }).map((value) => (value === 0 ? 0 : value)),
    text,
  );
  const keys = fc.uniqueArray(
    fc.array(component, { minLength: 1, maxLength: 3 }).map((values) => [...values, nextRecordId()]),
    { minLength: 1, maxLength: 40 },
  );

  function load(all: KeyComponent[][]): void {
    root.transactionSync(() => {
      db.clearSync();
      for (const key of all) db.putSync(key as Key, null);
    });
  }

  const inRange = (start: unknown, end: Buffer) => [...db.getKeys({ start: start as Key, end })].map(hex).sort();

  it('afterPrefix bounds exactly the keys that start with the prefix as whole elements', () => {
    fc.assert(
      fc.property(keys, fc.nat(), fc.nat(), fc.array(component, { minLength: 1, maxLength: 2 }), fc.boolean(), (all, pick, cut, random, useRandom) => {
        load(all);
        const source = all[pick % all.length]!;
        const prefix = useRandom ? random : source.slice(0, 1 + (cut % (source.length - 1)));
        const expected = all
          .filter((key) => startsWith(key, prefix))
          .map(hex)
          .sort();
        expect(inRange(prefix, afterPrefix(prefix))).toEqual(expected);
      }),
      { numRuns: Number(process.env.RUNS ?? 150) },
    );
  });

  it('afterStringPrefix bounds exactly the keys whose element after the prefix starts with the string', () => {
    fc.assert(
      fc.property(keys, fc.nat(), fc.nat(), fc.nat(), text, fc.boolean(), (all, pick, cut, chars, random, useRandom) => {
        load(all);
        const source = all[pick % all.length]!;
        const depth = cut % (source.length - 1);
        const element = source[depth];
        const fromKey = typeof element === 'string' && element.length > 0 ? [...element].slice(0, 1 + (chars % [...element].length)).join('') : undefined;
        const head = source.slice(0, depth);
        const last = useRandom || fromKey === undefined ? random : fromKey;
        fc.pre(last.length > 0);
        const prefix = [...head, last];
        const expected = all
          .filter((key) => startsWith(key, head))
          .filter((key) => typeof key[head.length] === 'string' && (key[head.length] as string).startsWith(last))
          .map(hex)
          .sort();
        expect(inRange(prefix, afterStringPrefix(prefix))).toEqual(expected);
      }),
      { numRuns: 150 },
    );
  });

  it('afterPrefix keeps a longer string element, a number and a null after the prefix apart', () => {
    const all: KeyComponent[][] = [
      ['a', 'ID1'],
      ['a', MISSING, 'ID2'],
      ['a', 1, 'ID3'],
      ['ab', 'ID4'],
      ['a\u0001', 'ID5'],
      ['b', 'ID6'],
      [MISSING, 'ID7'],
      ['a', '\u{10FFFF}', 'ID8'],
    ];
    load(all);
    expect([...db.getKeys({ start: ['a'], end: afterPrefix(['a']) })]).toEqual([
      ['a', MISSING, 'ID2'],
      ['a', 1, 'ID3'],
      ['a', 'ID1'],
      ['a', '\u{10FFFF}', 'ID8'],
    ]);
    expect([...db.getKeys({ start: ['a'], end: afterStringPrefix(['a']) })]).toHaveLength(6);
  });
});
