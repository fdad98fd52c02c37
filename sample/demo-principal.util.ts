import type { Principal } from 'nestjs-declarative-entities';

/**
 * A stand-in for Passport in the sample: `X-User: alice:clerk,auditor` makes `alice` the
 * principal with roles `clerk` and `auditor`. A real app returns `req.user` instead.
 */
export function demoPrincipal(request: { headers: Record<string, string | string[] | undefined> }): Principal | undefined {
  const header = request.headers['x-user'];
  if (typeof header !== 'string' || header.trim() === '') return undefined;
  const [id, roles = ''] = header.split(':');
  return {
    id: id!.trim(),
    roles: roles
      .split(',')
      .map((role) => role.trim())
      .filter(Boolean),
  };
}
