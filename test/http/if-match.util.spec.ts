import { BadRequestException } from '@nestjs/common';
import { etagOf, expectedVersionOf } from '../../lib/http/if-match.util.js';

describe('expectedVersionOf', () => {
  it.each([undefined, '', '*'])('demands no version for %j', (header) => {
    expect(expectedVersionOf(header)).toBeUndefined();
  });

  it.each([
    ['"3"', 3],
    ['W/"3"', 3],
    ['3', 3],
    [' "42" ', 42],
    [['"7"'], 7],
  ])('reads %j as version %d', (header, version) => {
    expect(expectedVersionOf(header)).toBe(version);
  });

  it('reads back the ETag it sends', () => {
    for (const version of [1, 2, 99, 123456789]) expect(expectedVersionOf(etagOf(version))).toBe(version);
  });

  it.each(['"abc"', '"1", "2"', 'W/', '"-1"', '"1.5"', '"1234567890123456"', ['"1"', '"2"']])('answers 400 to %j', (header) => {
    expect(() => expectedVersionOf(header)).toThrow(BadRequestException);
  });
});

describe('etagOf', () => {
  it('quotes the version', () => {
    expect(etagOf(3)).toBe('"3"');
  });
});
