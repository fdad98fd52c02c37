import fc from 'fast-check';
import type { EntityDefinition } from '../../../lib/index.js';
import { objectBodyVariants } from './body-mutations.util.js';
import type { CaseDraft, HostileCase, RouteKind, Target } from './hostile-case.interface.js';
import { createBody, updateBody } from './definition-arbitraries.util.js';
import { jsonText, RawJson, withKey, type JsonText } from './json-text.util.js';
import { listCases } from './list-query-cases.util.js';

const GARBAGE_SEGMENTS = [
  '%00',
  'a%00b',
  '%20',
  '..',
  '%2e%2e',
  '%2F',
  'x%2Fy',
  '%E0%A4%A',
  '%',
  '%zz',
  '*',
  "'",
  '%22',
  '%3Cscript%3E',
  'null',
  'undefined',
  '0',
  '-1',
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  '%F0%9F%98%80',
  '%E2%80%AE',
  'batch',
];

const target: fc.Arbitrary<Target> = fc.oneof(
  { weight: 10, arbitrary: fc.nat().map((pick) => ({ kind: 'live' as const, pick })) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.nat(), fc.constantFrom('%00status', '%00', '%00x', '%2Fhistory', '%20'))
      .map(([pick, suffix]) => ({ kind: 'live' as const, pick, suffix })),
  },
  { weight: 2, arbitrary: fc.nat().map((pick) => ({ kind: 'deleted' as const, pick })) },
  { weight: 1, arbitrary: fc.constant({ kind: 'missing' as const }) },
  {
    weight: 3,
    arbitrary: fc
      .oneof(
        fc.constantFrom(...GARBAGE_SEGMENTS),
        fc
          .string({ unit: 'binary', minLength: 1, maxLength: 40 })
          .filter((text) => text.isWellFormed())
          .map(encodeURIComponent),
        fc.integer({ min: 100, max: 7000 }).map((count) => 'i'.repeat(count)),
      )
      .map((segment) => ({ kind: 'garbage' as const, segment })),
  },
);

function bodyCases(definition: EntityDefinition, route: 'create' | 'replace' | 'update'): fc.Arbitrary<CaseDraft> {
  const variants = objectBodyVariants(definition, route === 'update' ? updateBody(definition) : createBody(definition, route === 'create'));
  return route === 'create' ? variants : fc.tuple(variants, target).map(([variant, aim]) => ({ ...variant, target: aim }));
}

function batchCases(definition: EntityDefinition): fc.Arbitrary<CaseDraft> {
  const valid = createBody(definition);
  const badElement = objectBodyVariants(definition, valid).filter(
    (variant) => variant.expect === 'refuse' && variant.body !== undefined && variant.contentType === undefined,
  );
  return fc.oneof(
    {
      weight: 5,
      arbitrary: fc.array(valid, { minLength: 1, maxLength: 6 }).map((items): CaseDraft => ({ kind: 'valid batch', expect: 'accept', body: items })),
    },
    {
      weight: 4,
      arbitrary: fc.tuple(fc.array(valid, { maxLength: 5 }), badElement, fc.nat()).map(([items, bad, at]): CaseDraft => {
        const body: JsonText[] = [...items];
        body.splice(at % (items.length + 1), 0, bad.body!);
        return { kind: `batch element: ${bad.kind}`, expect: 'refuse', body, statuses: bad.statuses, mentions: bad.mentions };
      }),
    },
    {
      weight: 1,
      arbitrary: fc.tuple(valid, fc.integer({ min: 1001, max: 1100 })).map(([item, count]): CaseDraft => ({
        kind: 'batch over maxBatchSize',
        expect: 'refuse',
        body: new RawJson(`[${Array.from({ length: count }, () => jsonText(item)).join(',')}]`),
        statuses: [400, 413],
      })),
    },
    {
      weight: 1,
      arbitrary: fc
        .constantFrom<JsonText>([], {}, 'x', [[]], [null])
        .map((body): CaseDraft => ({ kind: 'batch of no records', expect: 'refuse', body, statuses: [400] })),
    },
  );
}

function recordCases(definition: EntityDefinition): fc.Arbitrary<CaseDraft & { route: RouteKind }> {
  const routes: RouteKind[] = [
    'read',
    'delete',
    'history',
    ...(definition.audited ? (['audit'] as const) : []),
    ...(definition.permissions ? (['grants-list'] as const) : []),
  ];
  return fc.tuple(fc.constantFrom(...routes), target).map(([route, aim]) => ({ kind: `${aim.kind} id`, expect: 'accept', route, target: aim }));
}

const SUBJECT = fc.oneof(
  fc.stringMatching(/^[A-Za-z0-9._@-]{1,40}$/),
  fc.stringMatching(/^group:[a-z0-9-]{1,20}$/),
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 30 }).filter((text) => /^[^\s\u0000]{1,200}$/u.test(text) && text !== 'group:'),
);
const RIGHTS = fc.subarray(['read', 'update', 'delete'], { minLength: 1 });

function grantCases(): fc.Arbitrary<CaseDraft & { route: RouteKind }> {
  const valid = fc.record({ subject: SUBJECT, rights: RIGHTS });
  const add = fc.oneof(
    { weight: 6, arbitrary: valid.map((body): CaseDraft => ({ kind: 'valid grant', expect: 'accept', body })) },
    {
      weight: 3,
      arbitrary: fc
        .tuple(
          valid,
          fc.constantFrom<JsonText>(
            '',
            ' ',
            'a b',
            'a\u0000',
            'group:',
            'x'.repeat(201),
            `group:${'x'.repeat(201)}`,
            42,
            null,
            {},
            ['a'],
            new RawJson('"\\ud800"'),
          ),
        )
        .map(([body, subject]): CaseDraft => ({ kind: 'bad grant subject', expect: 'refuse', body: { ...body, subject }, statuses: [400] })),
    },
    {
      weight: 3,
      arbitrary: fc
        .tuple(
          valid,
          fc.oneof(
            { weight: 12, arbitrary: fc.constantFrom<JsonText>([], ['write'], ['read', 'read'], 'read', [1], null, {}, ['__proto__']) },
            // Distinct values, so a check comparing every pair (quadratic) shows as a stall.
            {
              weight: 1,
              arbitrary: fc
                .integer({ min: 100_000, max: 120_000 })
                .map((count) => new RawJson(JSON.stringify(Array.from({ length: count }, (_, index) => index)))),
            },
          ),
        )
        .map(([body, rights]): CaseDraft => ({ kind: 'bad grant rights', expect: 'refuse', body: { ...body, rights }, statuses: [400, 413] })),
    },
    {
      weight: 2,
      arbitrary: fc.tuple(valid, fc.constantFrom('__proto__', 'constructor', 'prototype', 'admin', 'toString')).map(([body, key]): CaseDraft => ({
        kind: 'grant with extra key',
        expect: 'refuse',
        body: withKey(body, key, { polluted: 'yes' }),
        statuses: [400],
      })),
    },
  );
  return fc.oneof(
    { weight: 3, arbitrary: fc.tuple(add, target).map(([variant, aim]) => ({ ...variant, route: 'grants-add' as const, target: aim })) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(fc.oneof(SUBJECT.map(encodeURIComponent), fc.constantFrom('%00', '%2F', '..', 'i'.repeat(3000), '%E0%A4%A')), target)
        .map(([subject, aim]) => ({ kind: 'grant removal', expect: 'either' as const, route: 'grants-remove' as const, target: aim, subject })),
    },
  );
}

/** Headers a case may carry: `If-Match`, `Idempotency-Key`, principals, request ids; each may change what the server must do. */
function withHeaders(base: HostileCase): fc.Arbitrary<HostileCase> {
  // A bad header refuses the request; which refusal comes first is only known when the body is a plain valid one.
  const refuse =
    (statuses: number[]) =>
    (variant: HostileCase): HostileCase => ({
      ...variant,
      expect: 'refuse',
      statuses: variant.expect === 'accept' && variant.contentType === undefined && variant.bytes === undefined ? statuses : undefined,
      mentions: undefined,
    });
  const options: fc.Arbitrary<HostileCase>[] = [fc.constant(base)];
  if (['replace', 'update', 'delete'].includes(base.route)) {
    options.push(fc.constant({ ...base, ifMatch: 'current' as const }));
    options.push(fc.constant(refuse([412, 404])({ ...base, ifMatch: 'stale' })));
    options.push(
      fc
        .oneof(
          fc.constantFrom('xyz', '"abc"', 'W/"x"', '"1", "2"', '"-1"', '1'.repeat(16), '""', 'W/', '"1"x'),
          fc
            .string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 8000 })
            .filter((text) => !/^\s*(W\/)?"?\d{1,15}"?\s*$/.test(text) && text.trim() !== '*' && text.trim() !== ''),
        )
        .map((value) => refuse([400])({ ...base, headers: { ...base.headers, 'if-match': value } })),
    );
  }
  if (base.route === 'create' || base.route === 'batch') {
    options.push(
      fc
        .tuple(fc.stringMatching(/^[!-~]{1,200}$/), fc.nat())
        .map(([key, salt]) => ({ ...base, headers: { ...base.headers, 'idempotency-key': `${key}-${salt.toString(36)}` } })),
    );
    options.push(
      fc
        .oneof(
          fc.integer({ min: 256, max: 8000 }).map((count) => 'k'.repeat(count)),
          fc.constantFrom('a b', 'caf\u00e9', '\u0080', ' ', 'a\tb'),
        )
        .map((key) => refuse([400])({ ...base, headers: { ...base.headers, 'idempotency-key': key } })),
    );
  }
  options.push(
    fc
      .oneof(
        fc.integer({ min: 64, max: 5000 }).map((count) => 'u'.repeat(count)),
        fc.stringMatching(/^[!-9;-~]{1,40}$/).filter((id) => !id.includes(',')),
        fc.constantFrom('caf\u00e9', '\u00ff\u00fe'),
      )
      // README: a principal id over 256 characters is refused with 401.
      .map((id) => (id.length > 256 ? refuse([401])({ ...base, user: `${id}:admin` }) : { ...base, user: `${id}:admin` })),
  );
  options.push(
    fc.constantFrom('', ':admin', 'joe', 'joe:clerk', 'joe:finance', 'joe:auditor', 'joe:lab', `${'v'.repeat(3000)}`, ' : ', 'joe:ADMIN').map((user) => ({
      ...base,
      user,
      expect: base.expect === 'accept' ? ('either' as const) : base.expect,
      statuses: undefined,
      mentions: undefined,
    })),
  );
  options.push(fc.constantFrom('../../x', 'a'.repeat(5000), '\u00e9', '', '<x>').map((id) => ({ ...base, headers: { ...base.headers, 'x-request-id': id } })));
  return fc.oneof({ weight: 12, arbitrary: options[0]! }, ...options.slice(1).map((arbitrary) => ({ weight: 1, arbitrary })));
}

/** Every hostile request this suite sends to the entities' routes, weighted toward the ones with the most to break. */
export function hostileCases(definitions: readonly EntityDefinition[]): fc.Arbitrary<HostileCase> {
  return fc.oneof(
    ...definitions.map((definition) => {
      const at =
        (route: RouteKind) =>
        (partial: CaseDraft): HostileCase => ({ headers: {}, ...partial, entity: definition, route });
      const routed = (partial: CaseDraft & { route: RouteKind }): HostileCase => at(partial.route)(partial);
      return fc
        .oneof(
          { weight: 6, arbitrary: bodyCases(definition, 'create').map(at('create')) },
          { weight: 3, arbitrary: batchCases(definition).map(at('batch')) },
          { weight: 3, arbitrary: bodyCases(definition, 'replace').map(at('replace')) },
          { weight: 5, arbitrary: bodyCases(definition, 'update').map(at('update')) },
          { weight: 6, arbitrary: listCases(definition).map(at('list')) },
          { weight: 4, arbitrary: recordCases(definition).map(routed) },
          ...(definition.permissions ? [{ weight: 2, arbitrary: grantCases().map(routed) }] : []),
        )
        .chain(withHeaders);
    }),
  );
}
