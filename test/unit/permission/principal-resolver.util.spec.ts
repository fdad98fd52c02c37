import { UnauthorizedException } from '@nestjs/common';
import type { EntitiesModuleOptions } from '../../../lib/common/entities-module-options.interface.js';
import { resolvePrincipal, type ResolvedPrincipal } from '../../../lib/permission/principal-resolver.util.js';

const alice = { id: 'alice', permissions: ['permits:read'] };

describe('resolvePrincipal', () => {
  it('answers synchronously when getPrincipal does (the default reads req.user)', () => {
    const resolved = resolvePrincipal({ user: alice }, {}) as ResolvedPrincipal;
    expect(resolved).not.toBeInstanceOf(Promise);
    expect(resolved.principal).toBe(alice);
    expect(resolved.permissions.holds('permits:read')).toBe(true);
  });

  it.each<[string, EntitiesModuleOptions['getPrincipal']]>([
    ['a promise', async () => alice],
    ['a thenable that is not a native promise', () => ({ then: (resolve: (value: unknown) => void) => resolve(alice) }) as never],
  ])('waits for getPrincipal returning %s', async (_, getPrincipal) => {
    const resolved = resolvePrincipal({}, { getPrincipal });
    expect(resolved).toBeInstanceOf(Promise);
    expect((await resolved).principal).toEqual(alice);
  });

  it('resolves once per request, however often it is asked', () => {
    let calls = 0;
    const options: EntitiesModuleOptions = { getPrincipal: () => (calls++, alice) };
    const request = {};
    expect(resolvePrincipal(request, options)).toBe(resolvePrincipal(request, options));
    expect(calls).toBe(1);
  });

  it('takes a principal without an id for none, and refuses an id with control characters', async () => {
    expect((resolvePrincipal({ user: { id: '' } }, {}) as ResolvedPrincipal).principal).toBeUndefined();
    expect(() => resolvePrincipal({ user: { id: 'a\nb' } }, {})).toThrow(UnauthorizedException);
    await expect(resolvePrincipal({}, { getPrincipal: async () => ({ id: 'a\u0000b' }) })).rejects.toThrow(UnauthorizedException);
  });
});
