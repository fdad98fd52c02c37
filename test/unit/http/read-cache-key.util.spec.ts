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
});
