import { listKeyOf } from '../../../lib/http/read-cache-key.util.js';

describe('listKeyOf', () => {
  it('keys a list by its query string alone, whatever the path it came by', () => {
    expect(listKeyOf('/permits?status=open')).toBe(listKeyOf('/api/v1/permits?status=open'));
    expect(listKeyOf('/permits?status=open')).not.toBe(listKeyOf('/permits?status=closed'));
  });

  it('keys every list without a query string alike, and apart from any with one', () => {
    expect(listKeyOf('/permits')).toBe(listKeyOf('/api/permits'));
    expect(listKeyOf('/permits')).toBe(listKeyOf('/permits?'));
    expect(listKeyOf('/permits')).not.toBe(listKeyOf('/permits?/permits'));
  });

  it('digests a long query string, or one with bytes a store may refuse, apart from any short one', () => {
    const long = `/permits?${'client=acme&'.repeat(10)}`;
    expect(listKeyOf(long)).toMatch(/^list#[\w-]{22}$/);
    expect(listKeyOf(long)).not.toBe(listKeyOf(`${long}x`));
    expect(listKeyOf('/permits?name=a b')).toMatch(/^list#/);
    expect(listKeyOf('/permits?status=open')).toBe('list?status=open');
  });
});
