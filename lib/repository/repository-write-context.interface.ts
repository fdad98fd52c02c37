import type { WriteContext } from '../storage/write-context.interface.js';
import type { PrincipalContext } from './principal-context.interface.js';

/** Options of a repository write. */
export interface RepositoryWriteContext extends WriteContext, PrincipalContext {}
