import { BadRequestException } from '@nestjs/common';
import { searchOf } from './entity-route-query.util.js';

/**
 * `include=permit,site` of a read route's query string: the reference names it lists, or
 * `undefined` without one. Which names an entity has is the repository's to check.
 */
export function includeOf(url: string): string[] | undefined {
  // Most reads name no include: they skip parsing the query string once more. The query alone
  // is looked at (a path may hold the word), and any escape is decoded first (`%69nclude`).
  const query = url.indexOf('?');
  if (query === -1 || (!url.includes('include', query) && !url.includes('%', query))) return undefined;
  const search = searchOf(url);
  const values = search.getAll('include');
  if (values.length === 0) return undefined;
  if (values.length > 1) throw new BadRequestException('query parameter include is repeated');
  const names = values[0]!.split(',');
  if (names.includes('')) throw new BadRequestException('include lists reference names separated by commas, e.g. include=permit');
  return names;
}
