import { BadRequestException } from '@nestjs/common';
import { etagOf, expectedVersionOf, noneMatchHolds } from '../../../lib/http/if-match.util.js';

function refusal(header: string | string[]): string {
  let caught: unknown;
  try {
    expectedVersionOf(header);
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(BadRequestException);
  return (caught as BadRequestException).message;
}

describe('expectedVersionOf', () => {
  it.each([undefined, '*', ' * '])('demands no version for %j', (header) => {
    expect(expectedVersionOf(header)).toBeUndefined();
  });

  it.each([
    ['"3"', 3],
    ['3', 3],
    [' "42" ', 42],
    [['"7"'], 7],
  ])('reads %j as version %d', (header, version) => {
    expect(expectedVersionOf(header)).toBe(version);
  });

  it('reads back the ETag it sends', () => {
    for (const version of [1, 2, 99, 123456789]) expect(expectedVersionOf(etagOf(version))).toBe(version);
  });

  it.each(['W/"3"', ' W/"3" ', 'W/3', 'W/""'])('answers 400 to the weak ETag %j, saying a write needs a strong one', (header) => {
    expect(refusal(header)).toMatch(/weak ETag.*strong/);
  });

  it.each(['', '   ', '""', [] as string[]])('answers 400 to the empty If-Match %j, saying it is empty', (header) => {
    expect(refusal(header)).toMatch(/If-Match is empty/);
  });

  it.each(['"abc"', '"1", "2"', '*, "1"', 'W/', '"-1"', '"1.5"', '"3', '3"', '"1234567890123456"', '"01"', '01', '"0"', ['"1"', '"2"']])(
    'answers 400 to %j',
    (header) => {
      expect(refusal(header)).toContain('If-Match');
    },
  );
});

describe('etagOf', () => {
  it('quotes the version', () => {
    expect(etagOf(3)).toBe('"3"');
  });
});

describe('noneMatchHolds', () => {
  it.each([['"3"'], ['W/"3"'], ['*'], ['"1", W/"3"'], [' "2" ,"3" '], [['"1"', '"3"']]])('holds for %j at version 3', (header) => {
    expect(noneMatchHolds(header, 3)).toBe(true);
  });

  it.each([[undefined], [''], ['"30"'], ['3'], ['"3'], ['W/"2", "4"'], ['w/"3"'], [['"1"', '"2"']]])('does not hold for %j at version 3', (header) => {
    expect(noneMatchHolds(header, 3)).toBe(false);
  });
});
